/* The one-pass needle search of probes/logs/_lines.c for many needles: a Teddy-style filter.
 *
 * search_avx2 compares each 32-byte block with every needle's guard (two compares, an and and an
 * or per needle): with the 15-21 needles of a busy log's full search that is most of the scan.
 * Here the needles are spread over 8 buckets, and a block is tested against all of them at once:
 * each byte's low and high nibble look up (pshufb) the buckets whose guard's first byte has that
 * nibble, the next byte the same for the guard's second byte, and the four look-ups are anded;
 * the bytes left with a bucket bit are candidates, verified needle by needle as before. The cost
 * per block is the same for 4 needles or 64 (Hyperscan's Teddy, without its multi-byte masks).
 * The positions found are those of search_avx2: the first occurrence of any needle
 * (tests/unit/test_log_lines.py compares them with bytes.find).
 */
#define _GNU_SOURCE
#include <string.h>

#include "_lines.h"

#ifdef LINES_HAVE_TEDDY
#include <immintrin.h>

static inline int teddy_verify(const unsigned char *buf, Py_ssize_t start, Py_ssize_t end,
                               const needle_t *n, Py_ssize_t guard, Py_ssize_t *found) {
    Py_ssize_t p = guard - n->offset;
    if (p < start || p + n->len > end || memcmp(buf + p, n->bytes, (size_t)n->len) != 0) {
        return 0;
    }
    *found = p;
    return 1;
}

/* The byte of needle n that the filter's k-th look-up (k = 0, 1, 2: the guard's bytes, then the
 * one after) compares, or -1 for any byte. */
static int fingerprint(const needle_t *n, int k) {
    if (k == 1 && n->width == 1) {
        return -1;
    }
    Py_ssize_t at = n->offset + k;
    return at < n->len ? n->bytes[at] : -1;
}

static int bits(unsigned v) { return __builtin_popcount(v); }

/* Byte values (as a product of nibble sets) a bucket lets through with these nibble sets. */
static long width_of(const unsigned short lo[3], const unsigned short hi[3]) {
    long w = 1;
    for (int k = 0; k < 3; k++) {
        w *= (long)bits(lo[k]) * bits(hi[k]);
    }
    return w;
}

/* Needles into 8 buckets, greedily where they widen a bucket's filter least (the same guard
 * costs nothing, a one-byte guard wants a bucket of its own); the nibble tables of the result. */
static void teddy_tables(const needle_t *needles, int count, unsigned char tables[6][16],
                         unsigned char *bucket) {
    unsigned short lo[8][3] = {{0}}, hi[8][3] = {{0}};
    int used[8] = {0};
    memset(tables, 0, 6 * 16);
    for (int pass = 0; pass < 2; pass++) { /* one-byte guards first: they are the widest */
        for (int j = 0; j < count; j++) {
            const needle_t *n = &needles[j];
            if ((n->width == 1) != (pass == 0)) {
                continue;
            }
            unsigned short nlo[3], nhi[3];
            for (int k = 0; k < 3; k++) {
                int c = fingerprint(n, k);
                nlo[k] = c < 0 ? 0xffff : (unsigned short)(1u << (c & 15));
                nhi[k] = c < 0 ? 0xffff : (unsigned short)(1u << (c >> 4));
            }
            int pick = 0;
            long cost = -1;
            for (int b = 0; b < 8; b++) {
                unsigned short tlo[3], thi[3];
                for (int k = 0; k < 3; k++) {
                    tlo[k] = (unsigned short)(lo[b][k] | nlo[k]);
                    thi[k] = (unsigned short)(hi[b][k] | nhi[k]);
                }
                long grow = width_of(tlo, thi) - (used[b] ? width_of(lo[b], hi[b]) : 0);
                if (cost < 0 || grow < cost) {
                    cost = grow;
                    pick = b;
                }
            }
            for (int k = 0; k < 3; k++) {
                lo[pick][k] |= nlo[k];
                hi[pick][k] |= nhi[k];
            }
            used[pick] = 1;
            bucket[j] = (unsigned char)(1u << pick);
        }
    }
    for (int b = 0; b < 8; b++) {
        for (int k = 0; k < 3; k++) {
            for (int v = 0; v < 16; v++) {
                if (lo[b][k] & (1u << v)) {
                    tables[2 * k][v] |= (unsigned char)(1u << b);
                }
                if (hi[b][k] & (1u << v)) {
                    tables[2 * k + 1][v] |= (unsigned char)(1u << b);
                }
            }
        }
    }
}

__attribute__((target("avx2"))) static inline __m256i
look_up(const unsigned char *p, __m256i low, __m256i high, __m256i nibble) {
    __m256i v = _mm256_loadu_si256((const __m256i *)p);
    return _mm256_and_si256(
        _mm256_shuffle_epi8(low, _mm256_and_si256(v, nibble)),
        _mm256_shuffle_epi8(high, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)));
}

__attribute__((target("avx2"))) Py_ssize_t
lines_search_teddy(const unsigned char *buf, Py_ssize_t i, Py_ssize_t start, Py_ssize_t end,
                   const needle_t *needles, int count, Py_ssize_t max_offset, Py_ssize_t *best,
                   int *which) {
    /* The tables of the needles last searched: a scan searches the same few needle sets (the
     * candidates', every probe's, one probe's) again and again, and building tables costs about
     * a microsecond (the GIL is held: no other thread is in here). */
    enum { KEEP = 4 };
    static struct {
        unsigned char key[2048];
        size_t key_len;
        unsigned char tables[6][16], bucket[MAX_NEEDLES];
    } kept[KEEP];
    static int next_slot = 0;
    unsigned char key[2048];
    size_t key_len = 0;
    for (int j = 0; j < count && key_len != sizeof key; j++) {
        const needle_t *n = &needles[j];
        if (key_len + 3 + (size_t)n->len > sizeof key) {
            key_len = sizeof key; /* too long to remember: built every time */
            break;
        }
        key[key_len] = (unsigned char)n->offset;
        key[key_len + 1] = (unsigned char)n->width;
        key[key_len + 2] = (unsigned char)n->len;
        memcpy(key + key_len + 3, n->bytes, (size_t)n->len);
        key_len += 3 + (size_t)n->len;
    }
    unsigned char built[6][16], own_bucket[MAX_NEEDLES];
    unsigned char(*tables)[16] = built;
    unsigned char *bucket = own_bucket;
    int slot = -1;
    for (int k = 0; k < KEEP && key_len != sizeof key; k++) {
        if (kept[k].key_len == key_len && !memcmp(kept[k].key, key, key_len)) {
            slot = k;
        }
    }
    if (slot < 0 && key_len != sizeof key) {
        slot = next_slot;
        next_slot = (next_slot + 1) % KEEP;
        teddy_tables(needles, count, kept[slot].tables, kept[slot].bucket);
        memcpy(kept[slot].key, key, key_len);
        kept[slot].key_len = key_len;
    }
    if (slot >= 0) {
        tables = kept[slot].tables;
        bucket = kept[slot].bucket;
    } else {
        teddy_tables(needles, count, built, own_bucket);
    }
    __m256i t[6];
    for (int k = 0; k < 6; k++) {
        t[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tables[k]));
    }
    const __m256i nibble = _mm256_set1_epi8(0x0f);
    const __m256i zero = _mm256_setzero_si256();
    while (i + 34 <= end) {
        if (*best >= 0 && i > *best + max_offset) {
            return -1;
        }
        __m256i m = look_up(buf + i, t[0], t[1], nibble);
        m = _mm256_and_si256(m, look_up(buf + i + 1, t[2], t[3], nibble));
        m = _mm256_and_si256(m, look_up(buf + i + 2, t[4], t[5], nibble));
        unsigned mask = ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(m, zero));
        if (!mask) {
            i += 32;
            continue;
        }
        unsigned char hits[32];
        _mm256_storeu_si256((__m256i *)hits, m);
        while (mask) {
            int bit = __builtin_ctz(mask);
            mask &= mask - 1;
            Py_ssize_t guard = i + bit;
            for (int j = 0; j < count; j++) {
                const needle_t *n = &needles[j];
                Py_ssize_t found;
                if ((hits[bit] & bucket[j]) && buf[guard] == n->bytes[n->offset] &&
                    (n->width == 1 || buf[guard + 1] == n->bytes[n->offset + 1]) &&
                    teddy_verify(buf, start, end, n, guard, &found) &&
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
#endif
