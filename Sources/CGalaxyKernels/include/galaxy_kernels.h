#ifndef GALAXY_KERNELS_H
#define GALAXY_KERNELS_H
// The engine's hottest loops: single-precision and bf16 GEMM micro-kernels, Winograd F(2x2, 3x3)
// tile transforms and 2x2 max pooling. They are C so that each can be compiled several times for
// different instruction sets (AVX-512, AVX2, baseline), one of which runs, chosen by CPU features;
// Swift has no per-function target attributes. Also here: the CPU features the engine's choices
// rest on (cpuid, xgetbv) and the counters that let threads share one image's layers. Only
// GalaxyEngine includes this header.
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Input transform of one channel plane `[height][width]`, zero-padded by `pad_top`/`pad_left`:
/// tile (ty, tx) writes its 16 values Bᵀ d B to `v[k * k_stride + ty * tiles_w + tx]`, k = 0..15.
/// `rows` is scratch for 4 * (2 * tiles_w + 2) floats.
void galaxy_winograd_input_plane(const float *plane, int height, int width, int pad_top, int pad_left,
                                 int tiles_h, int tiles_w, float *v, ptrdiff_t k_stride, float *rows);

/// Output transform of one output plane `[out_h][out_w]`: tile (ty, tx) reads its 16 values from
/// `m[k * m_stride + ty * tiles_w + tx]` and writes the 2x2 block Aᵀ m A (clipped at odd sides).
void galaxy_winograd_output_plane(const float *m, ptrdiff_t m_stride, int tiles_h, int tiles_w,
                                  float *out, int out_h, int out_w);

/// The output transform fused with a following 2x2, stride-2 max pool: tile (ty, tx) of the
/// `tiles_w`-wide tile grid, for ty < pooled_h and tx < pooled_w, writes the largest of its 2x2
/// block to `out[ty * pooled_w + tx]` (the pool drops an odd last row and column, and with them
/// the clipped tiles). Equal bit for bit to galaxy_winograd_output_plane then galaxy_max_pool_2x2.
void galaxy_winograd_output_max_pool_plane(const float *m, ptrdiff_t m_stride, int tiles_w, float *out, int pooled_h,
                                           int pooled_w);

/// 2x2, stride-2 max pooling of `planes` planes `[height][width]` into `[out_h][out_w]`; the caller
/// guarantees 2 * out_h <= height and 2 * out_w <= width (odd last rows and columns are dropped).
void galaxy_max_pool_2x2(const float *input, int planes, int height, int width, int out_h, int out_w,
                         float *output);

/// C = alpha * A · B + beta * C for row-major A `[m][k]` (row stride `lda`), B `[k][n]` and
/// C `[m][n]`, on the calling thread. With beta 0, C is only written (never read). Register-blocked
/// micro-kernels per instruction set, chosen like the loops above; the paths differ only in
/// rounding (fused multiply-adds on AVX2 and AVX-512, separate ones on the baseline).
void galaxy_sgemm(int m, int n, int k, float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                  float beta, float *c, ptrdiff_t ldc);

/// C = A · B like galaxy_sgemm with alpha 1 and beta 0, for k up to 256. `a_panels` (or NULL) is A
/// packed by galaxy_pack_panels: the AVX-512 paths then compute a last block of up to 12 columns
/// vectorised over rows (no padding columns), with the same bits as galaxy_sgemm.
void galaxy_sgemm_panels(int m, int n, int k, const float *a, ptrdiff_t lda, const float *a_panels, const float *b,
                         ptrdiff_t ldb, float *c, ptrdiff_t ldc);

/// fp32 A `[m][k]` (row stride `lda`) as panels of 32 rows: element p of rows r0..r0+31 at
/// `out[((r0 / 32) * k + p) * 32 + i]`, rows past m zero; ceil(m / 32) * k * 32 values.
void galaxy_pack_panels(const float *a, int m, int k, ptrdiff_t lda, float *out);

/// Packs row-major fp32 A `[m][k]` (row stride `lda`) for galaxy_sgemm_bf16: row i becomes
/// ceil(k / 2) 32-bit pairs at `out + i * ceil(k / 2)`, element 2q rounded to bf16 (to nearest
/// even) in the low half and element 2q + 1 in the high half (zero past k).
void galaxy_pack_bf16_pairs(const float *a, int m, int k, ptrdiff_t lda, unsigned int *out);

/// C = A · B in bf16 products with fp32 sums (reduced-precision models): A `[m][k]` packed by
/// galaxy_pack_bf16_pairs (row stride `lda` pairs), fp32 B `[k][n]` rounded to bf16 as it is
/// read, C `[m][n]` only written. Native vdpbf16ps on the "avx512_bf16" path, emulated elsewhere
/// with the same results (each bf16 product is exact in fp32; denormals aside).
void galaxy_sgemm_bf16(int m, int n, int k, const unsigned int *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                       float *c, ptrdiff_t ldc);

/// galaxy_sgemm_bf16 with B already packed as pairs: `b` is `[ceil(k / 2)][ldb]` 32-bit pairs (row
/// 2q in the low halves, 2q + 1 in the high), each row zero from column n up to ldb, a multiple of
/// 32. The same bits as galaxy_sgemm_bf16 on the unpacked B. `a_panels` (or NULL) is A packed by
/// galaxy_pack_bf16_panels: the avx512_bf16 path then computes a last block of up to 12 columns
/// vectorised over rows (no padding columns), with the same bits.
void galaxy_sgemm_bf16_packed(int m, int n, int k, const unsigned int *a, ptrdiff_t lda, const unsigned int *a_panels,
                              const unsigned int *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc);

/// A's bf16 pairs `[m][pairs]` (row stride `lda`) as panels of 32 rows: pair q of rows r0..r0+31
/// at `out[((r0 / 32) * pairs + q) * 32 + i]`, rows past m zero; ceil(m / 32) * pairs * 32 values.
void galaxy_pack_bf16_panels(const unsigned int *a, int m, int pairs, ptrdiff_t lda, unsigned int *out);

/// galaxy_winograd_input_plane for two channel planes of `images` images at once (image i's planes
/// lie i * image_stride after plane0 and plane1), written as bf16 pairs for
/// galaxy_sgemm_bf16_packed: tile t of image i writes its 16 values as pairs (plane0's in the low
/// half, plane1's in the high; zero when plane1 is NULL) to
/// `v[k * k_stride + i * tiles_h * tiles_w + t]`. `rows` is scratch for 4 * (2 * tiles_w + 2)
/// floats, `tiles` for 32 * images * tiles_h * tiles_w.
void galaxy_winograd_input_pairs(const float *plane0, const float *plane1, ptrdiff_t image_stride, int images,
                                 int height, int width, int pad_top, int pad_left, int tiles_h, int tiles_w,
                                 unsigned int *v, ptrdiff_t k_stride, float *rows, float *tiles);

/// A convolution's geometry over one image `[channels][height][width]` with an
/// `out_h x out_w` result.
typedef struct {
    int channels, height, width;
    int kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    int out_h, out_w;
} galaxy_conv_window;

/// The im2col matrix of one image, `channels * kernel_h * kernel_w` rows `ldc` apart (padding read
/// as zero), for output rows `first_row ..< first_row + rows`: row r's columns
/// `y * out_w ..< (y + 1) * out_w` for each such output row y. Returns 1, or 0 without writing
/// anything when the path has no such loop (only the AVX-512 paths have) or the shape is not one
/// it takes (a stride along rows other than 1, rows wider than 1024).
int galaxy_im2col(const float *input, const galaxy_conv_window *window, int first_row, int rows, float *columns,
                  ptrdiff_t ldc);

/// The im2col matrix of one image (`channels * kernel_h * kernel_w` rows, padding read as zero)
/// for output rows `first_row ..< first_row + rows`, written as bf16 pairs for
/// galaxy_sgemm_bf16_packed: `ceil(k / 2)` rows of pairs `ldp` apart, column `y * out_w + x` for
/// output row `first_row + y`, zero from `rows * out_w` to `ldp`; the same pairs as packing the
/// fp32 im2col matrix, without writing it. Returns 1, or 0 without writing anything when the path
/// has no such loop (only "avx512_bf16" has) or the shape is not one it takes (a stride along rows
/// other than 1, rows wider than 1024): the caller then packs fp32 im2col columns.
int galaxy_im2col_bf16_pairs(const float *input, const galaxy_conv_window *window, int first_row, int rows,
                             unsigned int *out, ptrdiff_t ldp);

/// 1 when bf16 products run on the AVX512-BF16 instruction (the "avx512_bf16" path), 0 when emulated.
int galaxy_bf16_native(void);

/// What the processor offers and the operating system lets programs use (x86-64; all zero
/// elsewhere). Read with cpuid and xgetbv, never from a table of CPU models.
typedef struct {
    int avx2, fma, avx512f, avx512bw, avx512vl, avx512_vnni, avx512_bf16, avx512_fp16;
    int amx_tile, amx_bf16, amx_int8;
    /// The OS saves the AVX (ymm) and AVX-512 (zmm, mask) registers on a context switch.
    int os_saves_avx, os_saves_avx512;
    /// Linux offers AMX tile state to processes that ask for it.
    int os_offers_amx;
} galaxy_cpu_features;

void galaxy_read_cpu_features(galaxy_cpu_features *out);

/// The instruction set the kernels above run with: "avx512_bf16" (avx512 with native bf16
/// products), "avx512", "avx2" or "baseline". Chosen at the
/// first call by CPU features, or by the environment variable GALAXY_KERNELS when the CPU can run
/// what it names (a test's galaxy_set_kernel_path on its own thread). The transforms and pooling
/// give bit-identical results on every path; the GEMM's rounding differs.
const char *galaxy_kernel_path(void);

/// Whether this CPU can run the path named ("baseline", "avx2", "avx512", "avx512_bf16").
int galaxy_kernel_path_supported(const char *name);

/// Switches the path of the calling thread (tests; other threads keep the process's path): 0 done,
/// -1 no such path, -2 this CPU cannot run it.
int galaxy_set_kernel_path(const char *name);

/// The GALAXY_KERNELS value that was ignored because this CPU cannot run it, or NULL.
const char *galaxy_kernel_path_ignored_request(void);

/// Counters of a team of threads that share one image's layers (team_counters.c): a member takes
/// a part of a phase when `galaxy_team_take(&flag)` of that part returns 1 (first come), reports
/// it with `galaxy_team_finished(&finished)`, and before the next phase spins in
/// `galaxy_team_wait` until `finished` reaches the phase's part count. `galaxy_team_claim` hands
/// out numbers (the old value). Taking and claiming are acquire-release and finishing is a
/// release, so what one member wrote in a phase is visible to every member in the next.
int galaxy_team_take(long *flag);
long galaxy_team_claim(long *counter);
void galaxy_team_finished(long *counter);
/// Adds `value` to a counter (relaxed), and reads one: `TeamStepTimes`' sums, which members of
/// concurrent teams add to at once.
void galaxy_team_add(long *counter, long value);
long galaxy_team_load(const long *counter);
void galaxy_team_wait(const long *counter, long target);
/// Spins until `*value` is nonzero (1) or `nanoseconds` have passed (0): how an idle team helper
/// waits for the next image before it goes to sleep. `galaxy_team_store` writes such a value.
int galaxy_team_await(const long *value, long nanoseconds);
void galaxy_team_store(long *value, long new_value);

#ifdef __cplusplus
}
#endif
#endif
