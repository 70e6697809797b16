/* A busy log's error records from bytes to finished JSON lines, without Python in between.
 *
 * json_errors walks a region of complete lines as probes/logs/needles.py's Search.next_line
 * does (the same needles, the same acceptance of a candidate line, the same anchor misses
 * counted), reads each candidate that is an error record with lines_read_error, and writes its
 * event as the JSON line `clusterconsole events --json` prints for it. It stops at the first
 * candidate it cannot finish alone and hands it to Python: a record lines_read_error refuses (also
 * after cutting off the application line it may be glued onto: _records.c), a
 * message a cluster rule may read, a (layout, level, source) whose event Python has not described
 * yet in `drafts` (probes/logs/fastjson.py). So the lines come out in the order of the log, and
 * are the bytes Python would have written (tests/unit/test_log_json.py).
 *
 * rebase adds the lines of a file's earlier parts to each JSON line's number (the parts of a big
 * file are scanned by several processes, each counting its lines from 1).
 */
#define _GNU_SOURCE
#include <string.h>

#include "_lines.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Output written straight into a bytes object, resized as it grows and cut to its length at the
 * end: handed over without a copy (a busy log's 123 MB of JSON lines were copied twice). */
typedef struct {
    PyObject *bytes; /* NULL until the first write */
    Py_ssize_t len, cap;
} sink_t;

static int put(sink_t *s, const void *p, Py_ssize_t n) {
    if (s->len + n > s->cap) {
        Py_ssize_t cap = s->cap ? s->cap : 1 << 16;
        while (cap < s->len + n) {
            cap *= 2;
        }
        if (!s->bytes) {
            s->bytes = PyBytes_FromStringAndSize(NULL, cap);
            if (!s->bytes) {
                return -1;
            }
        } else if (_PyBytes_Resize(&s->bytes, cap) < 0) {
            return -1; /* s->bytes is NULL now */
        }
        s->cap = cap;
    }
    memcpy(PyBytes_AS_STRING(s->bytes) + s->len, p, (size_t)n);
    s->len += n;
    return 0;
}

/* The bytes written (a new reference); the sink is empty afterwards. */
static PyObject *take(sink_t *s) {
    PyObject *bytes = s->bytes;
    s->bytes = NULL;
    if (!bytes) {
        return PyBytes_FromStringAndSize("", 0);
    }
    return _PyBytes_Resize(&bytes, s->len) < 0 ? NULL : bytes;
}

/* Text that lines_read_error accepted (printable ASCII, tabs, newlines) as orjson escapes it. */
static int put_escaped(sink_t *s, const unsigned char *p, Py_ssize_t n) {
    static const unsigned char plain[256] = {
        [' '] = 1, ['!'] = 1, ['#' ... '['] = 1, [']' ... 0xff] = 1,
    }; /* what is copied as it is: the loop skips runs of it a table look-up a byte */
    Py_ssize_t run = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
#ifdef __SSE2__
        /* 16 bytes at a time while none needs escaping (a trace line has ~60 in a row) */
        const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
        const __m128i control = _mm_set1_epi8(0x1f);
        while (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i odd = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash));
            odd = _mm_or_si128(odd, _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));
            int mask = _mm_movemask_epi8(odd);
            if (mask) {
                i += __builtin_ctz((unsigned)mask);
                break;
            }
            i += 16;
        }
        if (i >= n) {
            break;
        }
#endif
        unsigned char c = p[i];
        if (plain[c]) {
            continue;
        }
        const char *escape = NULL;
        char code[7];
        if (c == '"') {
            escape = "\\\"";
        } else if (c == '\\') {
            escape = "\\\\";
        } else if (c == '\n') {
            escape = "\\n";
        } else if (c == '\t') {
            escape = "\\t";
        } else if (c < 0x20) {
            snprintf(code, sizeof code, "\\u%04x", c);
            escape = code;
        } else {
            continue;
        }
        if (put(s, p + run, i - run) < 0 || put(s, escape, (Py_ssize_t)strlen(escape)) < 0) {
            return -1;
        }
        run = i + 1;
    }
    return put(s, p + run, n - run);
}

/* memmem for a needle in a line: a memchr for its first byte and a compare; glibc's memmem sets
 * up a two-way search first, which costs more than the search on a short line. */
static int has(const unsigned char *b, Py_ssize_t start, Py_ssize_t end, PyObject *needle) {
    Py_ssize_t n = PyBytes_GET_SIZE(needle);
    const unsigned char *w = (const unsigned char *)PyBytes_AS_STRING(needle);
    if (n < 1 || n > end - start) {
        return n < 1;
    }
    const unsigned char *p = b + start, *last = b + end - n;
    while (p <= last && (p = memchr(p, w[0], (size_t)(last - p + 1))) != NULL) {
        if (!memcmp(p + 1, w + 1, (size_t)(n - 1))) {
            return 1;
        }
        p++;
    }
    return 0;
}

typedef struct {
    needle_t needles[MAX_NEEDLES];
    int count;
    PyObject *accept;  /* per pattern: (owner, mode, data) */
    needle_t line_needles[MAX_NEEDLES];
    int line_count;
    PyObject *anchors; /* per needle of line_needles: its probe's anchor (b"": none) */
    long misses[MAX_NEEDLES];
} tables_t;

static int read_tables(PyObject *spec, PyObject *accept, PyObject *line_spec, PyObject *anchors,
                       tables_t *t) {
    if (!PyBytes_Check(spec) || !PyTuple_Check(accept) || !PyBytes_Check(line_spec) ||
        !PyTuple_Check(anchors)) {
        PyErr_SetString(PyExc_TypeError, "json_errors: malformed tables");
        return -1;
    }
    t->count = lines_parse_spec((const unsigned char *)PyBytes_AS_STRING(spec),
                                PyBytes_GET_SIZE(spec), t->needles);
    t->line_count = lines_parse_spec((const unsigned char *)PyBytes_AS_STRING(line_spec),
                                     PyBytes_GET_SIZE(line_spec), t->line_needles);
    if (t->count < 0 || t->line_count < 0 || PyTuple_GET_SIZE(accept) != t->count ||
        PyTuple_GET_SIZE(anchors) != t->line_count) {
        PyErr_SetString(PyExc_ValueError, "json_errors: malformed tables");
        return -1;
    }
    for (int j = 0; j < t->count; j++) {
        PyObject *row = PyTuple_GET_ITEM(accept, j);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 3 ||
            !PyLong_Check(PyTuple_GET_ITEM(row, 0)) || !PyLong_Check(PyTuple_GET_ITEM(row, 1))) {
            PyErr_SetString(PyExc_ValueError, "json_errors: malformed accept table");
            return -1;
        }
        long owner = PyLong_AsLong(PyTuple_GET_ITEM(row, 0));
        long mode = PyLong_AsLong(PyTuple_GET_ITEM(row, 1));
        PyObject *data = PyTuple_GET_ITEM(row, 2);
        int ok = owner >= 0 && owner < MAX_NEEDLES &&
                 ((mode == 0) || (mode == 1 && PyBytes_Check(data)) ||
                  (mode == 2 && PyTuple_Check(data)));
        for (Py_ssize_t k = 0; ok && mode == 2 && k < PyTuple_GET_SIZE(data); k++) {
            ok = PyBytes_Check(PyTuple_GET_ITEM(data, k));
        }
        if (!ok) {
            PyErr_SetString(PyExc_ValueError, "json_errors: malformed accept table");
            return -1;
        }
    }
    for (int j = 0; j < t->line_count; j++) {
        if (!PyBytes_Check(PyTuple_GET_ITEM(anchors, j))) {
            PyErr_SetString(PyExc_ValueError, "json_errors: malformed anchors");
            return -1;
        }
    }
    t->accept = accept;
    t->anchors = anchors;
    memset(t->misses, 0, sizeof t->misses);
    return 0;
}

/* Search._accepts: a record start holding the probe's anchor and one of its needles. */
static int accepts(const unsigned char *b, tables_t *t, int which, Py_ssize_t start,
                   Py_ssize_t end) {
    PyObject *row = PyTuple_GET_ITEM(t->accept, which);
    long owner = PyLong_AsLong(PyTuple_GET_ITEM(row, 0));
    long mode = PyLong_AsLong(PyTuple_GET_ITEM(row, 1));
    PyObject *data = PyTuple_GET_ITEM(row, 2);
    int ok;
    if (b[start] == '\t' || b[start] == ' ') {
        ok = 0;
    } else if (mode == 2) { /* the probe's anchor was found: one of its needles too? */
        ok = 0;
        for (Py_ssize_t k = 0; !ok && k < PyTuple_GET_SIZE(data); k++) {
            ok = has(b, start, end, PyTuple_GET_ITEM(data, k));
        }
    } else {
        ok = mode == 0 || has(b, start, end, data);
    }
    if (!ok && mode == 2) {
        t->misses[owner]++;
    }
    return ok;
}

/* Search._another_probe: some probe's needle and anchor on the line. */
static int another_probe(const unsigned char *b, tables_t *t, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t at = start;
    for (;;) {
        Py_ssize_t found;
        int which;
        lines_search(b, at, end, t->line_needles, t->line_count, &found, &which);
        if (found < 0) {
            return 0;
        }
        PyObject *anchor = PyTuple_GET_ITEM(t->anchors, which);
        if (PyBytes_GET_SIZE(anchor) == 0 || has(b, start, end, anchor)) {
            return 1;
        }
        at = found + 1;
    }
}

typedef struct {
    Py_ssize_t max_fold, max_line, text_cap;
    PyObject *drafts; /* bytes key -> (middle, detail) */
    PyObject *prefix, *suffix;
} config_t;

/* The event's JSON line, or 0 when Python must write it (1 written, -1 error). */
static int put_event(sink_t *s, const unsigned char *b, const error_read_t *r, const config_t *c,
                     Py_ssize_t line) {
    if (lines_may_be_cluster(b + r->message, r->head_end - r->message)) {
        return 0;
    }
    char small[512];
    Py_ssize_t level = r->level_end - r->level, source = r->src_end - r->src;
    Py_ssize_t size = 2 + level + source;
    char *key = size <= (Py_ssize_t)sizeof small ? small : PyMem_Malloc((size_t)size);
    if (!key) {
        PyErr_NoMemory();
        return -1;
    }
    key[0] = (char)('0' + r->layout);
    memcpy(key + 1, b + r->level, (size_t)level);
    key[1 + level] = ' ';
    memcpy(key + 2 + level, b + r->src, (size_t)source);
    PyObject *name = PyBytes_FromStringAndSize(key, size);
    if (key != small) {
        PyMem_Free(key);
    }
    if (!name) {
        return -1;
    }
    PyObject *draft = PyDict_GetItemWithError(c->drafts, name); /* borrowed */
    Py_DECREF(name);
    if (!draft) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_Check(draft) || PyTuple_GET_SIZE(draft) != 2 ||
        !PyBytes_Check(PyTuple_GET_ITEM(draft, 0)) || !PyBytes_Check(PyTuple_GET_ITEM(draft, 1))) {
        return 0; /* Python reads this one itself */
    }
    PyObject *middle = PyTuple_GET_ITEM(draft, 0), *detail = PyTuple_GET_ITEM(draft, 1);
    /* probes/logs/scanner.py _fast_error and classify.event: head + trace, cut at text_cap */
    Py_ssize_t head = r->head_end - r->head;
    Py_ssize_t text = head;
    if (r->trace_lines && head <= c->text_cap) {
        text = r->next - 1 - r->head; /* head, newline, trace */
    }
    int cut = text > c->text_cap;
    if (cut) {
        text = c->text_cap - 1;
    }
    char number[24];
    int digits = snprintf(number, sizeof number, "%zd", line);
    if (put(s, PyBytes_AS_STRING(c->prefix), PyBytes_GET_SIZE(c->prefix)) < 0 ||
        put(s, number, digits) < 0 || put(s, ",\"time\":\"", 9) < 0 ||
        put(s, r->time, 23) < 0 || put(s, "\",", 2) < 0 ||
        put(s, PyBytes_AS_STRING(middle), PyBytes_GET_SIZE(middle)) < 0 ||
        put(s, ",\"text\":\"", 9) < 0 || put_escaped(s, b + r->head, text) < 0 ||
        (cut && put(s, "\xe2\x80\xa6", 3) < 0) || put(s, "\",", 2) < 0 ||
        put(s, PyBytes_AS_STRING(detail), PyBytes_GET_SIZE(detail)) < 0 ||
        put(s, PyBytes_AS_STRING(c->suffix), PyBytes_GET_SIZE(c->suffix)) < 0) {
        return -1;
    }
    return 1;
}

static int read_config(PyObject *config, config_t *c) {
    if (!PyTuple_Check(config) || PyTuple_GET_SIZE(config) != 6 ||
        !PyDict_Check(PyTuple_GET_ITEM(config, 3)) || !PyBytes_Check(PyTuple_GET_ITEM(config, 4)) ||
        !PyBytes_Check(PyTuple_GET_ITEM(config, 5))) {
        PyErr_SetString(PyExc_TypeError, "json_errors: malformed config");
        return -1;
    }
    Py_ssize_t *numbers[] = {&c->max_fold, &c->max_line, &c->text_cap};
    for (int k = 0; k < 3; k++) {
        *numbers[k] = PyLong_AsSsize_t(PyTuple_GET_ITEM(config, k));
        if (*numbers[k] == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    if (c->text_cap < 1) {
        PyErr_SetString(PyExc_ValueError, "json_errors: text_cap < 1");
        return -1;
    }
    c->drafts = PyTuple_GET_ITEM(config, 3);
    c->prefix = PyTuple_GET_ITEM(config, 4);
    c->suffix = PyTuple_GET_ITEM(config, 5);
    return 0;
}

/* json_errors(buffer, pos, end, tables, misses, config, cpos, cline, out)
 *   tables: (spec, accept, line_spec, line_anchors) as Search builds them
 *   misses: a list of ints, one per probe, to which the anchor misses are added
 *   config: (max_fold, max_line, text_cap, drafts, prefix, suffix)
 *   cpos, cline: a line start in the buffer and its line number
 *   out: a list, to which the JSON lines written are appended as one bytes object
 * -> (line_start, line_end, cpos, cline): the candidate line Python must read (-1, -1 when the
 * region has none left), and the line counter moved on. */
PyObject *scan_json_errors(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 9 || !PyTuple_Check(args[3]) || PyTuple_GET_SIZE(args[3]) != 4 ||
        !PyList_Check(args[4]) || !PyList_Check(args[8])) {
        PyErr_SetString(PyExc_TypeError,
                        "json_errors(buffer, pos, end, tables, misses, config, cpos, cline, out)");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]), end = PyLong_AsSsize_t(args[2]);
    Py_ssize_t cpos = PyLong_AsSsize_t(args[6]), cline = PyLong_AsSsize_t(args[7]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    tables_t *t = PyMem_Malloc(sizeof *t);
    if (!t) {
        return PyErr_NoMemory();
    }
    PyObject *tables = args[3], *misses = args[4], *out = args[8], *result = NULL;
    config_t c;
    sink_t s = {NULL, 0, 0};
    Py_buffer view;
    if (read_tables(PyTuple_GET_ITEM(tables, 0), PyTuple_GET_ITEM(tables, 1),
                    PyTuple_GET_ITEM(tables, 2), PyTuple_GET_ITEM(tables, 3), t) < 0 ||
        read_config(args[5], &c) < 0) {
        PyMem_Free(t);
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        PyMem_Free(t);
        return NULL;
    }
    const unsigned char *b = (const unsigned char *)view.buf;
    if (pos < 0 || end > view.len || pos > end || cpos < 0 || cpos > pos || cline < 1) {
        PyErr_SetString(PyExc_ValueError, "json_errors: positions outside the buffer");
        goto done;
    }
    Py_ssize_t line_start = -1, line_end = -1;
    while (pos < end) {
        Py_ssize_t found;
        int which;
        lines_search(b, pos, end, t->needles, t->count, &found, &which);
        if (found < 0) {
            break;
        }
        const unsigned char *nl = memrchr(b + pos, '\n', (size_t)(found - pos));
        Py_ssize_t start = nl ? (nl - b) + 1 : pos;
        nl = memchr(b + found, '\n', (size_t)(end - found));
        Py_ssize_t stop = nl ? nl - b : end;
        int ok = accepts(b, t, which, start, stop);
        if (!ok && b[start] != '\t' && b[start] != ' ' && another_probe(b, t, start, stop)) {
            ok = 1;
        }
        if (!ok) {
            pos = stop + 1;
            continue;
        }
        error_read_t r;
        int written = 0;
        Py_ssize_t record = start;
        int fits = stop - start <= c.max_line;
        if (fits && !lines_read_error(b, view.len, start, stop, end, c.max_fold, &r)) {
            record = lines_glued_second(b, start, stop); /* an application line, a record glued on */
            fits = record >= 0 && lines_read_error(b, view.len, record, stop, end, c.max_fold, &r);
        }
        if (fits) {
            Py_ssize_t line = cline + lines_count(b, cpos, start);
            written = put_event(&s, b, &r, &c, line);
            if (written < 0) {
                goto done;
            }
            if (written) {
                cline = line;
                cpos = start;
                pos = r.next;
            }
        }
        if (!written) {
            line_start = start;
            line_end = stop;
            break;
        }
    }
    for (int j = 0; j < MAX_NEEDLES; j++) {
        if (!t->misses[j]) {
            continue;
        }
        if (j >= PyList_GET_SIZE(misses)) {
            PyErr_SetString(PyExc_ValueError, "json_errors: misses list too short");
            goto done;
        }
        PyObject *sum = PyLong_FromLong(PyLong_AsLong(PyList_GET_ITEM(misses, j)) + t->misses[j]);
        if (!sum || PyList_SetItem(misses, j, sum) < 0) {
            goto done;
        }
    }
    if (s.len) {
        PyObject *lines = take(&s);
        int appended = lines ? PyList_Append(out, lines) : -1;
        Py_XDECREF(lines);
        if (appended < 0) {
            goto done;
        }
    }
    result = Py_BuildValue("(nnnn)", line_start, line_end, cpos, cline);
done:
    PyBuffer_Release(&view);
    Py_XDECREF(s.bytes);
    PyMem_Free(t);
    return result;
}

/* rebase(lines, prefix_len, add) -> the JSON lines with `add` added to the number that follows
 * each line's first prefix_len bytes. */
PyObject *scan_rebase(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "rebase(lines, prefix_len, add) takes 3 arguments");
        return NULL;
    }
    Py_ssize_t prefix = PyLong_AsSsize_t(args[1]), add = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const char *b = view.buf;
    Py_ssize_t len = view.len, at = 0;
    sink_t s = {NULL, 0, 0};
    PyObject *result = NULL;
    while (at < len) {
        Py_ssize_t digits = at + prefix, value = 0;
        while (digits < len && b[digits] >= '0' && b[digits] <= '9' && value < PY_SSIZE_T_MAX / 20) {
            value = value * 10 + (b[digits] - '0');
            digits++;
        }
        const char *nl = memchr(b + at, '\n', (size_t)(len - at));
        if (prefix < 0 || digits == at + prefix || !nl || nl - b < digits) {
            PyErr_SetString(PyExc_ValueError, "rebase: not a JSON line with its number");
            goto done;
        }
        char number[24];
        int width = snprintf(number, sizeof number, "%zd", value + add);
        Py_ssize_t next = (nl - b) + 1;
        if (put(&s, b + at, prefix) < 0 || put(&s, number, width) < 0 ||
            put(&s, b + digits, next - digits) < 0) {
            goto done;
        }
        at = next;
    }
    result = take(&s);
done:
    PyBuffer_Release(&view);
    Py_XDECREF(s.bytes);
    return result;
}
