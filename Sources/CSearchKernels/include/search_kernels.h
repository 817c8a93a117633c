#ifndef FACEFIND_SEARCH_KERNELS_H
#define FACEFIND_SEARCH_KERNELS_H

#include <stdint.h>
#include "crc32c.h" /* the vector files' checksums, in the same module */

/* Scoring kernels for exact search over a panel-major embedding matrix.
 *
 * A panel holds 16 gallery rows interleaved so that one 512-bit register holds the same coordinates of all
 * 16 rows: a query coordinate is broadcast and multiplied into 16 dot products at once, with no horizontal
 * sums. `dp` is the dimension padded to a multiple of 16 (padding is zero).
 *   float32: element (row r, dim k) of panel p at  p*16*dp + k*16 + r
 *   float16: same layout, IEEE half
 *   int8:    bytes, 4 dims per row side by side: p*16*dp + (k/4)*64 + r*4 + k%4, stored as (value + 128)
 *            so that VNNI's unsigned x signed dot product applies; the query side is signed.
 *
 * Every kernel writes out[q*ldo + p*16 + r] = alpha * scale[row] * dot(row, q) + bias[row]
 * (scale and bias may be NULL: 1 and 0). Queries go four at a time, the rest one by one; panel_count must
 * be even (callers pad with zero rows) and dp a multiple of 16.
 */

/* 1 when the AVX-512 (F, BW, VNNI, F16C) kernels run on this CPU, else the portable loops do. */
int ff_search_kernels_accelerated(void);

/* Set to 1 to run the portable loops even where AVX-512 is present (tests compare the two). */
void ff_search_kernels_set_portable(int portable);

void ff_scores_f32(const float *panels, int panel_count, int dp, const float *queries, int nq,
                   float alpha, const float *scale, const float *bias, float *out, int ldo);

void ff_scores_f16(const uint16_t *panels, int panel_count, int dp, const float *queries, int nq,
                   float alpha, const float *scale, const float *bias, float *out, int ldo);

/* Queries are int8 [nq][dp]; qcorr[q] = 128 * sum(query q) removes the +128 offset of the stored rows;
 * qscale[q] is the query's quantisation step, applied with `scale` (the rows' steps). */
void ff_scores_i8(const uint8_t *panels, int panel_count, int dp, const int8_t *queries, const int32_t *qcorr,
                  const float *qscale, int nq, float alpha, const float *scale, const float *bias,
                  float *out, int ldo);

/* Keeps the k largest (score, row) pairs seen so far in a min-heap (heap_scores[0] is the worst kept).
 * Rows are first_row + i for scores[i]. NaN and -inf scores are never kept. */
void ff_topk_update(const float *scores, int n, int64_t first_row, int k, float *heap_scores,
                    int64_t *heap_rows, int *count);

/* IEEE half <-> float for n values (F16C when present). */
void ff_f32_to_f16(const float *in, uint16_t *out, int n);
void ff_f16_to_f32(const uint16_t *in, float *out, int n);

#endif
