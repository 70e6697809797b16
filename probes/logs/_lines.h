/* What probes/logs/_lines.c shares with probes/logs/_scan.c (one extension, two sources). */
#ifndef CLUSTERCONSOLE_LINES_H
#define CLUSTERCONSOLE_LINES_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MAX_NEEDLES 64

typedef struct {
    const unsigned char *bytes;
    Py_ssize_t len;
    Py_ssize_t offset; /* of the guard within the needle */
    int width;         /* 1 or 2 */
} needle_t;

/* The newlines in p[start:end]. */
Py_ssize_t lines_count(const unsigned char *p, Py_ssize_t start, Py_ssize_t end);
/* The needles of a find_any spec; their number, or -1 for a malformed spec. */
int lines_parse_spec(const unsigned char *spec, Py_ssize_t size, needle_t *needles);
/* The first needle in buf[start:end]: its position in *best (-1: none) and index in *which. */
void lines_search(const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                  const needle_t *needles, int count, Py_ssize_t *best, int *which);

#if defined(__GNUC__) && defined(__x86_64__)
#define LINES_HAVE_TEDDY 1
#define LINES_TEDDY_MIN 4 /* needles from which the Teddy filter beats a compare per needle */
/* lines_search's 32-byte loop for many needles on CPUs with AVX2 (_teddy.c): where the caller
 * goes on from, or -1 when the search is over (*best, *which as lines_search sets them). */
Py_ssize_t lines_search_teddy(const unsigned char *buf, Py_ssize_t i, Py_ssize_t start,
                              Py_ssize_t end, const needle_t *needles, int count,
                              Py_ssize_t max_offset, Py_ssize_t *best, int *which);
#endif

/* An error record read whole by lines_read_error; offsets are absolute in the buffer. */
typedef struct {
    int layout; /* 1 jul1 (OneLineFormatter), 2 iso (log4j/logback) */
    char time[23];
    Py_ssize_t head, head_end; /* the record's first line, without its newline */
    Py_ssize_t level, level_end, src, src_end, message;
    Py_ssize_t trace_lines; /* folded lines under the head: the trace is */
    Py_ssize_t next;        /* buf[head_end + 1 : next - 1] when trace_lines > 0 */
} error_read_t;

/* 1 when buf[start:line_end] (line_end at its newline) and its trace inside buf[:end] are read
 * exactly as the Python path reads them; 0 when the Python path must decide. */
int lines_read_error(const unsigned char *b, Py_ssize_t len, Py_ssize_t start, Py_ssize_t line_end,
                     Py_ssize_t end, Py_ssize_t max_fold, error_read_t *r);

/* 1 when classify.MAY_BE_CLUSTER finds a word in m[0:n] (a cluster rule may read the message). */
int lines_may_be_cluster(const unsigned char *m, Py_ssize_t n);
/* Where records.split_glued cuts the line b[start:stop] in two, the first part an application's
 * line that is no event: the start of the record glued onto it; -1 when Python must decide. */
Py_ssize_t lines_glued_second(const unsigned char *b, Py_ssize_t start, Py_ssize_t stop);

PyObject *scan_json_errors(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *scan_rebase(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

#endif
