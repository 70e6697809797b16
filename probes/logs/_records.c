/* What a busy log's error records need besides their reading (probes/logs/_lines.c): whether a
 * message may be read by a cluster rule, and where a record glued onto an application's line
 * starts, both exactly as the Python path (probes/logs/classify.py, records.py) decides them.
 */
#define _GNU_SOURCE
#include <string.h>

#include "_lines.h"

static const char *const CLUSTER_WORDS[] = {
    "ember", "cluster", "WSO2 Carbon started", "hutting down", "uspect", "USPECT", "Removing ",
    "|", "members discovered",
};
#define CLUSTER_WORD_COUNT ((int)(sizeof CLUSTER_WORDS / sizeof *CLUSTER_WORDS))

/* Whether one of `words` (first bytes in `firsts`) starts at some position of m[0:n]: one pass
 * through the text, a table look-up per byte, where a memmem per word cost 9 passes. */
static int has_word(const unsigned char *m, Py_ssize_t n, const char *const *words, int count,
                    const unsigned char *firsts) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!firsts[m[i]]) {
            continue;
        }
        for (int k = 0; k < count; k++) {
            size_t len = strlen(words[k]);
            if ((unsigned char)words[k][0] == m[i] && (size_t)(n - i) >= len &&
                !memcmp(m + i, words[k], len)) {
                return 1;
            }
        }
    }
    return 0;
}

static const unsigned char *first_bytes(const char *const *words, int count,
                                        unsigned char table[256]) {
    memset(table, 0, 256);
    for (int k = 0; k < count; k++) {
        table[(unsigned char)words[k][0]] = 1;
    }
    return table;
}

/* classify.MAY_BE_CLUSTER: where one of these is in the message, a cluster rule may read it. */
int lines_may_be_cluster(const unsigned char *m, Py_ssize_t n) {
    static unsigned char table[256];
    static const unsigned char *firsts = NULL;
    if (!firsts) {
        firsts = first_bytes(CLUSTER_WORDS, CLUSTER_WORD_COUNT, table);
    }
    return has_word(m, n, CLUSTER_WORDS, CLUSTER_WORD_COUNT, firsts);
}

static int is_num(unsigned char c) { return c >= '0' && c <= '9'; }

/* `\d{1,2}-[A-Z][a-z]{2}-\d{4} \d{1,2}:\d\d:\d\d[.,]\d{3} \S+ \[` at h[i:n] (_GLUE's JUL
 * alternative; the text is printable ASCII, so \S is any byte but a space). */
static int glued_stamp(const unsigned char *h, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t p = i;
    if (p < n && is_num(h[p])) {
        p++;
    } else {
        return 0;
    }
    if (p < n && is_num(h[p])) {
        p++;
    }
    if (n - p < 9 || h[p] != '-' || !(h[p + 1] >= 'A' && h[p + 1] <= 'Z') ||
        !(h[p + 2] >= 'a' && h[p + 2] <= 'z') || !(h[p + 3] >= 'a' && h[p + 3] <= 'z') ||
        h[p + 4] != '-') {
        return 0;
    }
    p += 5;
    for (int k = 0; k < 4; k++, p++) {
        if (p >= n || !is_num(h[p])) {
            return 0;
        }
    }
    if (p + 2 > n || h[p] != ' ' || !is_num(h[p + 1])) {
        return 0;
    }
    p += 2;
    if (p < n && is_num(h[p])) {
        p++;
    }
    /* :\d\d:\d\d[.,]\d{3} and a space */
    if (n - p < 11 || h[p] != ':' || !is_num(h[p + 1]) || !is_num(h[p + 2]) || h[p + 3] != ':' ||
        !is_num(h[p + 4]) || !is_num(h[p + 5]) || (h[p + 6] != '.' && h[p + 6] != ',') ||
        !is_num(h[p + 7]) || !is_num(h[p + 8]) || !is_num(h[p + 9]) || h[p + 10] != ' ') {
        return 0;
    }
    p += 11;
    Py_ssize_t token = p;
    while (p < n && h[p] != ' ') {
        p++;
    }
    return p > token && p + 1 < n && h[p + 1] == '[';
}

static const char *const QUIET_FIRST[] = {"catalina", "o.a.c."};
/* Level words of an application's log4j/logback line that canonical_level does not read as an
 * error (records.LEVELS). */
static const char *const QUIET_LEVELS[] = {"INFO", "WARN", "DEBUG", "TRACE"};

/* Whether h[0:n] is a log4j/logback line (`YYYY-MM-DD HH:MM:SS,mmm LEVEL ...`) that
 * records.parse reads as layout `iso` at a level below error, and that classify can turn into no
 * event: no cluster rule's word and no Tomcat logger on it. */
static int quiet_iso(const unsigned char *h, Py_ssize_t n) {
    static const int digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22};
    if (n < 30 || h[4] != '-' || h[7] != '-' || h[10] != ' ' || h[13] != ':' || h[16] != ':' ||
        h[19] != ',' || h[23] != ' ') {
        return 0;
    }
    for (int k = 0; k < 17; k++) {
        if (!is_num(h[digits[k]])) {
            return 0;
        }
    }
    Py_ssize_t p = 23;
    while (p < n && h[p] == ' ') {
        p++;
    }
    Py_ssize_t word = p;
    while (p < n && ((h[p] >= 'A' && h[p] <= 'Z') || (h[p] >= 'a' && h[p] <= 'z') ||
                     is_num(h[p]) || h[p] == '_')) {
        p++;
    }
    int level = 0;
    for (size_t k = 0; k < sizeof QUIET_LEVELS / sizeof *QUIET_LEVELS; k++) {
        size_t len = strlen(QUIET_LEVELS[k]);
        level |= (size_t)(p - word) == len && !memcmp(h + word, QUIET_LEVELS[k], len);
    }
    if (!level || lines_may_be_cluster(h, n)) {
        return 0;
    }
    for (size_t k = 0; k < sizeof QUIET_FIRST / sizeof *QUIET_FIRST; k++) {
        if (memmem(h, (size_t)n, QUIET_FIRST[k], strlen(QUIET_FIRST[k]))) {
            return 0;
        }
    }
    return 1;
}

/* Where records.split_glued cuts b[start:stop] when it cuts it in exactly two, the first an
 * application's line that gives no event (quiet_iso), else -1: the start of the glued record.
 * Lines _GLUE's other alternative (a two-line JUL stamp) may cut are left to Python. */
Py_ssize_t lines_glued_second(const unsigned char *b, Py_ssize_t start, Py_ssize_t stop) {
    const unsigned char *h = b + start;
    Py_ssize_t n = stop - start, cut = -1, second = -1;
    if (n <= 60) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = h[i];
        if (c < 0x20 || c > 0x7e || c == '|') {
            return -1;
        }
        if (i > 0 && i + 1 < n && is_num(h[i - 1]) &&
            ((c == '/' && is_num(h[i + 1])) || (c == ',' && h[i + 1] == ' '))) {
            return -1; /* `22, 2026` or `11/22/2026`: _GLUE's two-line stamp may be there */
        }
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        if (h[i] != ' ' || h[i - 1] == ' ') {
            continue;
        }
        Py_ssize_t k = i;
        while (k < n && h[k] == ' ') {
            k++;
        }
        if (glued_stamp(h, k, n)) {
            if (second >= 0) {
                return -1; /* three records or more: Python cuts them */
            }
            cut = i;
            second = k;
        }
        i = k - 1;
    }
    if (second < 0 || !quiet_iso(h, cut)) {
        return -1;
    }
    return start + second;
}
