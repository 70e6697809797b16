/* Byte-level primitives the log scanner needs at a speed CPython lacks: newline counting and a
 * search for several needles in one pass.
 *
 * bytes.count(b"\n") runs an early-exit loop that compilers cannot vectorize (1.3-2.5 GB/s on
 * the machines measured); counting in blocks of 255 bytes into a byte-wide sum lets gcc -O3 use
 * SIMD compares (12 GB/s on the same machine). Optional: probes/logs/lines.py falls back to
 * bytes.count when this module is not built.
 */
#include "_lines.h"
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

Py_ssize_t lines_count(const unsigned char *p, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t total = 0;
    Py_ssize_t i = start;
    while (end - i >= 255) {
        unsigned char block = 0; /* at most 255: cannot overflow */
        for (int k = 0; k < 255; k++) {
            block += (p[i + k] == '\n');
        }
        total += block;
        i += 255;
    }
    for (; i < end; i++) {
        total += (p[i] == '\n');
    }
    return total;
}

/* count_newlines(buffer, start, end) -> the number of b"\n" in buffer[start:end], with slice
 * semantics for the bounds (clamped to the buffer, an empty range counts 0). */
static PyObject *count_newlines(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "count_newlines(buffer, start, end) takes 3 arguments");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t end = PyLong_AsSsize_t(args[2]);
    if (end == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Py_ssize_t length = view.len;
    if (start < 0) {
        start = start + length < 0 ? 0 : start + length;
    }
    if (end < 0) {
        end = end + length < 0 ? 0 : end + length;
    }
    if (end > length) {
        end = length;
    }
    Py_ssize_t total = 0;
    if (start < end) {
        total = lines_count((const unsigned char *)view.buf, start, end);
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(total);
}

/* find_any(buffer, start, end, spec) -> (position, index): the first occurrence in
 * buffer[start:end] of any of several needles, and which one; (-1, -1) when there is none.
 *
 * One pass instead of one bytes.find pass per needle (a log scan searches 8-10 of them). spec is
 * built once by probes/logs/lines.py: for each needle its guard offset, its guard width (1 or 2
 * bytes) and its length, then the needle. Each 16-byte block is compared with every needle's
 * guard (SSE2: two compares, an and and a movemask per needle); a guard hit is verified with
 * memcmp. Guards are rare bytes or byte pairs of the needle, so hits are few. From
 * LINES_TEDDY_MIN needles on, CPUs with AVX2 test all needles at once (_teddy.c). */
int lines_parse_spec(const unsigned char *spec, Py_ssize_t size, needle_t *needles) {
    Py_ssize_t at = 0;
    int count = 0;
    while (at < size) {
        if (count == MAX_NEEDLES || size - at < 3) {
            return -1;
        }
        Py_ssize_t offset = spec[at], width = spec[at + 1], len = spec[at + 2];
        at += 3;
        if (len < 1 || width < 1 || width > 2 || offset + width > len || size - at < len) {
            return -1;
        }
        needles[count].bytes = spec + at;
        needles[count].len = len;
        needles[count].offset = offset;
        needles[count].width = (int)width;
        count++;
        at += len;
    }
    return count;
}

/* Whether needle n occurs at p (its guard at p + offset was already seen to match). */
static inline int verify(const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                         const needle_t *n, Py_ssize_t guard, Py_ssize_t *found) {
    Py_ssize_t p = guard - n->offset;
    if (p < start || p + n->len > end) {
        return 0;
    }
    if (memcmp(buf + p, n->bytes, (size_t)n->len) != 0) {
        return 0;
    }
    *found = p;
    return 1;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
/* The SSE2 loop of lines_search on 32-byte blocks, on CPUs with AVX2 (chosen at run time: the
 * helper is built for any x86-64). Returns where the caller goes on, or -1 when the search is
 * over (a needle found and no later position can start an earlier one). */
__attribute__((target("avx2"))) static Py_ssize_t
search_avx2(const unsigned char *buf, Py_ssize_t i, Py_ssize_t start, Py_ssize_t end,
            const needle_t *needles, int count, Py_ssize_t max_offset, Py_ssize_t *best,
            int *which) {
    __m256i first[MAX_NEEDLES], second[MAX_NEEDLES];
    for (int j = 0; j < count; j++) {
        const needle_t *n = &needles[j];
        first[j] = _mm256_set1_epi8((char)n->bytes[n->offset]);
        second[j] = _mm256_set1_epi8((char)n->bytes[n->offset + n->width - 1]);
    }
    while (i + 33 <= end) {
        if (*best >= 0 && i > *best + max_offset) {
            return -1;
        }
        __m256i a = _mm256_loadu_si256((const __m256i *)(buf + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(buf + i + 1));
        __m256i any = _mm256_setzero_si256();
        for (int j = 0; j < count; j++) {
            __m256i hit = _mm256_cmpeq_epi8(a, first[j]);
            if (needles[j].width == 2) {
                hit = _mm256_and_si256(hit, _mm256_cmpeq_epi8(b, second[j]));
            }
            any = _mm256_or_si256(any, hit);
        }
        if (!_mm256_movemask_epi8(any)) {
            i += 32;
            continue;
        }
        for (int j = 0; j < count; j++) {
            __m256i hit = _mm256_cmpeq_epi8(a, first[j]);
            if (needles[j].width == 2) {
                hit = _mm256_and_si256(hit, _mm256_cmpeq_epi8(b, second[j]));
            }
            unsigned mask = (unsigned)_mm256_movemask_epi8(hit);
            while (mask) {
                int bit = __builtin_ctz(mask);
                mask &= mask - 1;
                Py_ssize_t found;
                if (verify(buf, start, end, &needles[j], i + bit, &found) &&
                    (*best < 0 || found < *best)) {
                    *best = found;
                    *which = j;
                }
            }
        }
        i += 32;
    }
    return i;
}

static int cpu_avx2(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return known;
}
#endif

void lines_search(const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                   const needle_t *needles, int count, Py_ssize_t *best, int *which) {
    Py_ssize_t max_offset = 0;
    for (int j = 0; j < count; j++) {
        if (needles[j].offset > max_offset) {
            max_offset = needles[j].offset;
        }
    }
    *best = -1;
    *which = -1;
    Py_ssize_t i = start;
#ifdef HAVE_AVX2_PATH
    if (cpu_avx2()) {
        i = count >= LINES_TEDDY_MIN
                ? lines_search_teddy(buf, i, start, end, needles, count, max_offset, best, which)
                : search_avx2(buf, i, start, end, needles, count, max_offset, best, which);
        if (i < 0) {
            return;
        }
    }
#endif
#ifdef __SSE2__
    __m128i first[MAX_NEEDLES], second[MAX_NEEDLES];
    for (int j = 0; j < count; j++) {
        const needle_t *n = &needles[j];
        first[j] = _mm_set1_epi8((char)n->bytes[n->offset]);
        second[j] = _mm_set1_epi8((char)n->bytes[n->offset + n->width - 1]);
    }
    while (i + 17 <= end) {
        if (*best >= 0 && i > *best + max_offset) {
            return;
        }
        __m128i a = _mm_loadu_si128((const __m128i *)(buf + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(buf + i + 1));
        __m128i any = _mm_setzero_si128();
        for (int j = 0; j < count; j++) {
            __m128i hit = _mm_cmpeq_epi8(a, first[j]);
            if (needles[j].width == 2) {
                hit = _mm_and_si128(hit, _mm_cmpeq_epi8(b, second[j]));
            }
            any = _mm_or_si128(any, hit);
        }
        if (!_mm_movemask_epi8(any)) { /* no guard in the block: the usual case */
            i += 16;
            continue;
        }
        for (int j = 0; j < count; j++) {
            __m128i hit = _mm_cmpeq_epi8(a, first[j]);
            if (needles[j].width == 2) {
                hit = _mm_and_si128(hit, _mm_cmpeq_epi8(b, second[j]));
            }
            unsigned mask = (unsigned)_mm_movemask_epi8(hit);
            while (mask) {
                int bit = __builtin_ctz(mask);
                mask &= mask - 1;
                Py_ssize_t found;
                if (verify(buf, start, end, &needles[j], i + bit, &found) &&
                    (*best < 0 || found < *best)) {
                    *best = found;
                    *which = j;
                }
            }
        }
        i += 16;
    }
#endif
    for (; i < end; i++) {
        if (*best >= 0 && i > *best + max_offset) {
            return;
        }
        for (int j = 0; j < count; j++) {
            const needle_t *n = &needles[j];
            if (buf[i] != n->bytes[n->offset]) {
                continue;
            }
            if (n->width == 2 && (i + 1 >= end || buf[i + 1] != n->bytes[n->offset + 1])) {
                continue;
            }
            Py_ssize_t found;
            if (verify(buf, start, end, n, i, &found) && (*best < 0 || found < *best)) {
                *best = found;
                *which = j;
            }
        }
    }
}

static PyObject *find_any(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "find_any(buffer, start, end, spec) takes 4 arguments");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t end = PyLong_AsSsize_t(args[2]);
    if (end == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (!PyBytes_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "find_any: spec must be bytes");
        return NULL;
    }
    needle_t needles[MAX_NEEDLES];
    int count = lines_parse_spec((const unsigned char *)PyBytes_AS_STRING(args[3]),
                           PyBytes_GET_SIZE(args[3]), needles);
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "find_any: malformed spec");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Py_ssize_t length = view.len;
    if (start < 0) {
        start = start + length < 0 ? 0 : start + length;
    }
    if (end < 0) {
        end = end + length < 0 ? 0 : end + length;
    }
    if (end > length) {
        end = length;
    }
    Py_ssize_t best = -1;
    int which = -1;
    if (start < end && count > 0) {
        lines_search((const unsigned char *)view.buf, start, end, needles, count, &best, &which);
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(ni)", best, which);
}

/* error_record(buffer, start, line_end, end, max_fold) -> the commonest record of a busy log, read
 * whole, or None for the Python path.
 *
 * The record: a Tomcat OneLineFormatter line at SEVERE/ERROR/FATAL/CRITICAL
 * (`22-Nov-2026 10:00:00.123 SEVERE [thread] pkg.Class.method message`) and the run of stack-trace
 * lines under it, ended by a line that certainly starts another record. Only what the Python path
 * (probes/logs/scanner.py: parse, _TRACE_RUN, _record_start) reads the same way is accepted:
 * printable ASCII (a tab too in trace lines), no CR, no prefix, no glued record, a complete trace
 * inside buffer[start:end] shorter than max_fold lines. Anything else returns None, and the caller
 * takes the general road, so the events are the same either way (tests/unit/test_log_fast.py).
 * Also the log4j/logback line of an application's error
 * (`2026-11-22 10:00:00,123 ERROR [thread] com.example.Shop - message`).
 * Returns (layout: 1 jul1, 2 iso; the time as ISO 8601, level, source (jul1: logger.method; iso: the logger),
 * message, head, trace or None, next line start). */
static int is_word(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$';
}
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* The end of `[A-Za-z_$][\w$]*(?:\.[\w$<>-]+)+` at p followed by a space or the line end, or -1. */
static Py_ssize_t source_end(const unsigned char *b, Py_ssize_t p, Py_ssize_t e) {
    if (p >= e || !(is_word(b[p]) && !is_digit(b[p]))) {
        return -1;
    }
    p++;
    while (p < e && is_word(b[p])) {
        p++;
    }
    int groups = 0;
    while (p < e && b[p] == '.') {
        Py_ssize_t q = p + 1;
        while (q < e && (is_word(b[q]) || b[q] == '<' || b[q] == '>' || b[q] == '-')) {
            q++;
        }
        if (q == p + 1) {
            return -1; /* `..` or a trailing `.`: the regex cannot end there before a space */
        }
        groups++;
        p = q;
    }
    if (!groups || (p < e && b[p] != ' ')) {
        return -1;
    }
    return p;
}

/* The length of a stack-trace line at p (to its newline, included) as _TRACE_RUN accepts it, or
 * 0. The line holds no CR (checked by the caller). */
static Py_ssize_t trace_line(const unsigned char *b, Py_ssize_t p, Py_ssize_t nl) {
    Py_ssize_t n = nl - p;
    if (n <= 0) {
        return 0;
    }
    if (b[p] == ' ' || b[p] == '\t') {
        for (Py_ssize_t i = p + 1; i < nl; i++) {
            unsigned char c = b[i];
            if (c != ' ' && c != '\t' && c != '\f' && c != '\v') {
                return n + 1;
            }
        }
        return 0;
    }
    if ((n >= 10 && !memcmp(b + p, "Caused by:", 10)) ||
        (n >= 11 && !memcmp(b + p, "Suppressed:", 11)) || (n >= 4 && !memcmp(b + p, "... ", 4)) ||
        (n >= 3 && !memcmp(b + p, "at ", 3))) {
        return n + 1;
    }
    /* (?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Fault)(?::[^\n]*|)\n */
    Py_ssize_t q = p;
    int packages = 0;
    for (;;) {
        if (q >= nl) {
            return 0;
        }
        unsigned char c = b[q];
        if ((c >= 'a' && c <= 'z') || c == '_' || c == '$') {
            Py_ssize_t r = q + 1;
            while (r < nl && is_word(b[r])) {
                r++;
            }
            if (r < nl && b[r] == '.') {
                packages++;
                q = r + 1;
                continue;
            }
            return 0;
        }
        if (c >= 'A' && c <= 'Z' && packages) {
            Py_ssize_t r = q + 1;
            while (r < nl && is_word(b[r])) {
                r++;
            }
            if (r < nl && b[r] != ':') {
                return 0;
            }
            static const char *const suffixes[] = {"Exception", "Error", "Throwable", "Fault"};
            for (int k = 0; k < 4; k++) {
                Py_ssize_t len = (Py_ssize_t)strlen(suffixes[k]);
                if (r - q > len && !memcmp(b + r - len, suffixes[k], (size_t)len)) {
                    return n + 1;
                }
            }
            return 0;
        }
        return 0;
    }
}

/* ISO 8601 `YYYY-MM-DDTHH:MM:SS.mmm` into out[23] from digit fields already checked to be digits,
 * as probes/logs/text.py writes it; 0 when a field is out of its range (then Python decides). */
static int iso_time(char *out, const unsigned char *year, int month, const unsigned char *day,
                    const unsigned char *clock, const unsigned char *millis) {
    int d = (day[0] - '0') * 10 + (day[1] - '0');
    int hour = (clock[0] - '0') * 10 + (clock[1] - '0');
    int minute = (clock[3] - '0') * 10 + (clock[4] - '0');
    int second = (clock[6] - '0') * 10 + (clock[7] - '0');
    if (month < 1 || month > 12 || d < 1 || d > 31 || hour > 23 || minute > 59 || second > 60) {
        return 0;
    }
    memcpy(out, year, 4);
    out[4] = '-';
    out[5] = (char)('0' + month / 10);
    out[6] = (char)('0' + month % 10);
    out[7] = '-';
    memcpy(out + 8, day, 2);
    out[10] = 'T';
    memcpy(out + 11, clock, 8);
    out[19] = '.';
    memcpy(out + 20, millis, 3);
    return 1;
}

/* The number of an English month abbreviation in any case (`Nov`, `NOV`), else 0. */
static int english_month(const unsigned char *m) {
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char lower[3];
    for (int k = 0; k < 3; k++) {
        lower[k] = (char)((m[k] >= 'A' && m[k] <= 'Z') ? m[k] + 32 : m[k]);
    }
    for (int k = 0; k < 12; k++) {
        if (!memcmp(names + 3 * k, lower, 3)) {
            return k + 1;
        }
    }
    return 0;
}

/* Whether p[0:n] is printable ASCII: with `trace`, tabs allowed too (a stack-trace line), else
 * a `|` refused too (a head line: a compose prefix's bar). 16 bytes at a time with SSE2. */
static int plain_ascii(const unsigned char *p, Py_ssize_t n, int trace) {
    Py_ssize_t i = 0;
#ifdef __SSE2__
    const __m128i control = _mm_set1_epi8(0x1f), top = _mm_set1_epi8(0x7e);
    const __m128i other = _mm_set1_epi8(trace ? '\t' : '|');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(v, control), control); /* v <= 0x1f */
        __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(v, top), top);        /* v <= 0x7e */
        __m128i same = _mm_cmpeq_epi8(v, other);
        __m128i bad = trace ? _mm_andnot_si128(same, low) : _mm_or_si128(low, same);
        if (_mm_movemask_epi8(bad) | (_mm_movemask_epi8(high) ^ 0xffff)) {
            return 0;
        }
    }
#endif
    for (; i < n; i++) {
        unsigned char c = p[i];
        if (c > 0x7e || (c < 0x20 && !(trace && c == '\t')) || (!trace && c == '|')) {
            return 0;
        }
    }
    return 1;
}

int lines_read_error(const unsigned char *b, Py_ssize_t len, Py_ssize_t start, Py_ssize_t line_end,
                     Py_ssize_t end, Py_ssize_t max_fold, error_read_t *r) {
    if (start < 0 || line_end < start || end > len || line_end >= end || b[line_end] != '\n' ||
        max_fold < 1) {
        return 0;
    }
    Py_ssize_t n = line_end - start;
    const unsigned char *h = b + start;
    if (n < 26) {
        return 0;
    }
    if (!plain_ascii(h, n, 0)) {
        return 0; /* control or non-ASCII bytes, or a compose prefix's bar */
    }
    if (n > 60) { /* split_glued's hint: `:dd:dd` from position 20 */
        const unsigned char *colon = h + 20, *stop = h + n - 5;
        while (colon < stop && (colon = memchr(colon, ':', (size_t)(stop - colon))) != NULL) {
            if (is_digit(colon[1]) && is_digit(colon[2]) && colon[3] == ':' &&
                is_digit(colon[4]) && is_digit(colon[5])) {
                return 0;
            }
            colon++;
        }
    }
    int layout;
    char *time = r->time;
    Py_ssize_t level, level_end, src = -1, src_end = -1, message;
    if (h[2] == '-') {
        /* jul1: DD-Mmm-YYYY HH:MM:SS.mmm LEVEL [thread] pkg.Class.method message */
        layout = 1;
        if (!is_digit(h[0]) || !is_digit(h[1]) || h[6] != '-' || h[11] != ' ' || h[14] != ':' ||
            h[17] != ':' || h[20] != '.' || h[24] != ' ') {
            return 0;
        }
        static const int digits[] = {7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 23};
        for (int k = 0; k < 13; k++) {
            if (!is_digit(h[digits[k]])) {
                return 0;
            }
        }
        for (int k = 3; k < 6; k++) {
            unsigned char c = h[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
                return 0;
            }
        }
        if (!iso_time(time, h + 7, english_month(h + 3), h, h + 12, h + 21)) {
            return 0; /* another language's month, or no date: Python reads it */
        }
        level = 25;
        level_end = level;
        while (level_end < n && h[level_end] != ' ') {
            level_end++;
        }
        Py_ssize_t len = level_end - level;
        if (!((len == 6 && !memcmp(h + level, "SEVERE", 6)) ||
              (len == 5 && !memcmp(h + level, "ERROR", 5)) ||
              (len == 5 && !memcmp(h + level, "FATAL", 5)) ||
              (len == 8 && !memcmp(h + level, "CRITICAL", 8)))) {
            return 0;
        }
        if (level_end + 1 >= n || h[level_end + 1] != '[') {
            return 0;
        }
        for (Py_ssize_t i = level_end + 2; i + 1 < n; i++) { /* the thread: lazy, to a `] ` */
            if (h[i] == ']' && h[i + 1] == ' ') {
                Py_ssize_t e = source_end(h, i + 2, n);
                if (e >= 0) {
                    src = i + 2;
                    src_end = e;
                    break;
                }
            }
        }
        if (src < 0) {
            return 0;
        }
        message = src_end < n ? src_end + 1 : n;
    } else {
        /* iso (log4j/logback): YYYY-MM-DD HH:MM:SS,mmm LEVEL [thread] logger - message */
        layout = 2;
        if (h[4] != '-' || h[7] != '-' || h[10] != ' ' || h[13] != ':' || h[16] != ':' ||
            h[19] != ',' || h[23] != ' ') {
            return 0;
        }
        static const int digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22};
        for (int k = 0; k < 17; k++) {
            if (!is_digit(h[digits[k]])) {
                return 0;
            }
        }
        int month = (h[5] - '0') * 10 + (h[6] - '0');
        if (!iso_time(time, h, month, h + 8, h + 11, h + 20)) {
            return 0;
        }
        level = 24;
        level_end = level;
        while (level_end < n && h[level_end] >= 'A' && h[level_end] <= 'Z') {
            level_end++;
        }
        Py_ssize_t len = level_end - level;
        if (!((len == 6 && !memcmp(h + level, "SEVERE", 6)) ||
              (len == 5 && !memcmp(h + level, "ERROR", 5)) ||
              (len == 5 && !memcmp(h + level, "FATAL", 5)))) {
            return 0;
        }
        /* exactly one space, then `[thread] ` (the rest; _REST_LOGGER's third pattern only) */
        Py_ssize_t rest = level_end + 1;
        if (level_end + 2 >= n || h[level_end] != ' ' || h[rest] != '[') {
            return 0;
        }
        const unsigned char *close = memchr(h + rest, ']', (size_t)(n - rest));
        if (!close || close + 1 >= h + n || close[1] != ' ') {
            return 0;
        }
        src = (close - h) + 2;
        src_end = src;
        while (src_end < n && (is_word(h[src_end]) || h[src_end] == '.')) {
            src_end++;
        }
        if (src_end == src || n - src_end < 3 || memcmp(h + src_end, " - ", 3)) {
            return 0;
        }
        message = src_end + 3;
        /* the earlier patterns' literals: where they occur, the Python path decides */
        for (Py_ssize_t i = rest; i + 2 < n; i++) {
            if ((h[i] == ']' && h[i + 1] == ' ' && h[i + 2] == '(') ||
                (i + 5 < n && !memcmp(h + i, " --- [", 6))) {
                return 0;
            }
        }
    }
    /* The stack trace: complete lines, each as _TRACE_RUN takes them. */
    Py_ssize_t pos = line_end + 1, lines = 0;
    for (;;) {
        if (pos >= end) {
            return 0; /* the record may go on in the next chunk */
        }
        const unsigned char *nlp = memchr(b + pos, '\n', (size_t)(end - pos));
        if (!nlp) {
            return 0;
        }
        Py_ssize_t nl = nlp - b;
        if (!plain_ascii(b + pos, nl - pos, 1)) {
            return 0;
        }
        Py_ssize_t taken = trace_line(b, pos, nl);
        if (!taken) {
            /* _record_start: a digit first, 11 bytes or more, no `T` at 10, no `|` */
            if (!is_digit(b[pos]) || nl - pos < 11 || b[pos + 10] == 'T' ||
                memchr(b + pos, '|', (size_t)(nl - pos))) {
                return 0;
            }
            break;
        }
        lines++;
        pos = nl + 1;
    }
    if (lines >= max_fold) {
        return 0;
    }
    r->layout = layout;
    r->head = start;
    r->head_end = line_end;
    r->level = start + level;
    r->level_end = start + level_end;
    r->src = start + src;
    r->src_end = start + src_end;
    r->message = start + message;
    r->trace_lines = lines;
    r->next = pos;
    return 1;
}

static PyObject *error_record(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "error_record(buffer, start, line_end, end, max_fold) takes 5 arguments");
        return NULL;
    }
    Py_ssize_t v[4];
    for (int k = 0; k < 4; k++) {
        v[k] = PyLong_AsSsize_t(args[k + 1]);
        if (v[k] == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const char *b = (const char *)view.buf;
    error_read_t r;
    PyObject *result = NULL;
    if (!lines_read_error((const unsigned char *)b, view.len, v[0], v[1], v[2], v[3], &r)) {
        result = Py_None;
        Py_INCREF(result);
    } else {
        PyObject *trace = Py_None;
        Py_INCREF(trace);
        if (r.trace_lines) {
            Py_DECREF(trace);
            trace = PyUnicode_DecodeASCII(b + r.head_end + 1, r.next - 1 - (r.head_end + 1), NULL);
        }
        if (trace) {
            result = Py_BuildValue("(is#s#s#s#s#Nn)", r.layout, r.time, (Py_ssize_t)23, b + r.level,
                                   r.level_end - r.level, b + r.src, r.src_end - r.src,
                                   b + r.message, r.head_end - r.message, b + r.head,
                                   r.head_end - r.head, trace, r.next);
        }
    }
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"count_newlines", (PyCFunction)(void (*)(void))count_newlines, METH_FASTCALL,
     "count_newlines(buffer, start, end) -> number of newlines in buffer[start:end]"},
    {"find_any", (PyCFunction)(void (*)(void))find_any, METH_FASTCALL,
     "find_any(buffer, start, end, spec) -> (position, index) of the first needle found"},
    {"error_record", (PyCFunction)(void (*)(void))error_record, METH_FASTCALL,
     "error_record(buffer, start, line_end, end, max_fold) -> a OneLineFormatter error and its "
     "stack trace, or None"},
    {"json_errors", (PyCFunction)(void (*)(void))scan_json_errors, METH_FASTCALL,
     "json_errors(buffer, pos, end, tables, misses, config, cpos, cline, out) -> the error "
     "records from pos on as JSON lines into out, up to the first candidate line Python reads"},
    {"rebase", (PyCFunction)(void (*)(void))scan_rebase, METH_FASTCALL,
     "rebase(lines, prefix_len, add) -> JSON lines with add added to each line number"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "probes.logs._lines", "Fast newline counting.", -1, methods,
};

/* API: 2 since json_errors appends its JSON lines to a list (1: into a bytearray); Python uses
 * json_errors only from a helper built for the API it speaks (probes/logs/jsonl.py). */
PyMODINIT_FUNC PyInit__lines(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "API", 2) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
