// The engine's vectorisable loops, included once per instruction set by galaxy_kernels.c with
// GALAXY_LOOP(name) (the suffixed function name) and GALAXY_TARGET (the target attribute) set.
// The transforms and pooling only add, subtract and compare, so every instruction set gives
// bit-identical results; the fp32 GEMM's fused multiply-adds (AVX2, AVX-512) round differently,
// the bf16 GEMM's exact products do not.

// Bᵀ d B for one tile row: the loops over tx read stride-2 columns and store contiguously for
// each of the 16 outputs, which the vectoriser turns into full-width operations.
GALAXY_TARGET
static void GALAXY_LOOP(input_tile_row)(const float *restrict r0, const float *restrict r1,
                                        const float *restrict r2, const float *restrict r3, int tiles_w,
                                        float *restrict v, ptrdiff_t ks) {
    for (int tx = 0; tx < tiles_w; tx++) {
        const int x = 2 * tx;
        float d[4][4], out[16];
        for (int j = 0; j < 4; j++) {
            d[0][j] = r0[x + j];
            d[1][j] = r1[x + j];
            d[2][j] = r2[x + j];
            d[3][j] = r3[x + j];
        }
        GALAXY_WINOGRAD_INPUT_TILE(d, out);
        for (int k = 0; k < 16; k++) v[k * ks + tx] = out[k];
    }
}

// Aᵀ m A for the tiles of one row whose 2x2 block lies inside the output; the caller clips the rest.
GALAXY_TARGET
static void GALAXY_LOOP(output_tile_row)(const float *restrict m, ptrdiff_t ms, int count, float *restrict top,
                                         float *restrict bottom) {
    for (int tx = 0; tx < count; tx++) {
        float block[4];
        winograd_output_tile(m + tx, ms, block);
        top[2 * tx] = block[0];
        top[2 * tx + 1] = block[1];
        bottom[2 * tx] = block[2];
        bottom[2 * tx + 1] = block[3];
    }
}

// The same transform followed by a 2x2 max of each tile's block (a following 2x2, stride-2 max
// pool), for `count` tiles stored contiguously: one pooled value per tile, compared in the order
// max_pool_2x2 compares, so the result equals transform-then-pool bit for bit.
GALAXY_TARGET
static void GALAXY_LOOP(output_tile_max)(const float *restrict m, ptrdiff_t ms, int count, float *restrict out) {
#if GALAXY_WIDTH == 16
    // Rows are short (6 or 3 pooled tiles at batch 1): AVX-512 runs them as one masked step
    // instead of one tile at a time (4.4% of a batch-1 run instead of 5.2%). Elsewhere masked
    // tails cost more than they save (SSE has no masked loads: 2.1% -> 6.8%).
#pragma clang loop vectorize(enable) vectorize_predicate(enable)
#endif
    for (int tx = 0; tx < count; tx++) {
        float block[4];
        winograd_output_tile(m + tx, ms, block);
        out[tx] = larger(larger(block[0], block[1]), larger(block[2], block[3]));
    }
}

GALAXY_TARGET
static void GALAXY_LOOP(max_pool_2x2)(const float *input, int planes, int height, int width, int out_h, int out_w,
                                      float *output) {
    for (int p = 0; p < planes; p++) {
        const float *src = input + (ptrdiff_t)p * height * width;
        float *dst = output + (ptrdiff_t)p * out_h * out_w;
        for (int y = 0; y < out_h; y++) {
            const float *restrict r0 = src + (ptrdiff_t)2 * y * width;
            const float *restrict r1 = r0 + width;
            float *restrict out = dst + (ptrdiff_t)y * out_w;
            for (int x = 0; x < out_w; x++) {
                out[x] = larger(larger(r0[2 * x], r0[2 * x + 1]), larger(r1[2 * x], r1[2 * x + 1]));
            }
        }
    }
}

// GEMM micro-kernels: C[rows][NV * GALAXY_WIDTH] = alpha * A[rows][k] · B[k][NV * GALAXY_WIDTH]
// (+ beta * C), with TILE_ROWS accumulator rows of NV vectors held in registers. B is read in
// place, one row of NV vectors per step (the caller pads a narrow last block); A is broadcast one
// element at a time, so neither operand is packed. Rows past `rows` repeat row 0 and are dropped.
// The one-row tiles serve a single row of A (a dense layer on one image), where the full tile
// would compute its row GALAXY_ROWS times; each row's sums are the same either way.
typedef float GALAXY_LOOP(vec) __attribute__((vector_size(4 * GALAXY_WIDTH), aligned(4)));

#define GALAXY_GEMM_TILE(NAME, NV, TILE_ROWS)                                                               \
    GALAXY_TARGET                                                                                           \
    static void GALAXY_LOOP(NAME)(int rows, int k, const float *restrict a, ptrdiff_t lda,                  \
                                  const float *restrict b, ptrdiff_t ldb, float alpha, float beta,          \
                                  float *restrict c, ptrdiff_t ldc, int columns) {                          \
        typedef GALAXY_LOOP(vec) vec;                                                                       \
        const float *ar[TILE_ROWS];                                                                         \
        for (int r = 0; r < TILE_ROWS; r++) ar[r] = a + (r < rows ? r : 0) * lda;                           \
        vec acc[TILE_ROWS][NV];                                                                             \
        for (int r = 0; r < TILE_ROWS; r++)                                                                 \
            for (int v = 0; v < NV; v++) acc[r][v] = (vec){0};                                              \
        for (int p = 0; p < k; p++) {                                                                       \
            vec bv[NV];                                                                                     \
            for (int v = 0; v < NV; v++) memcpy(&bv[v], b + p * ldb + v * GALAXY_WIDTH, sizeof(vec));       \
            for (int r = 0; r < TILE_ROWS; r++) {                                                           \
                const float x = ar[r][p];                                                                   \
                for (int v = 0; v < NV; v++) acc[r][v] += x * bv[v];                                        \
            }                                                                                               \
        }                                                                                                   \
        for (int r = 0; r < rows; r++) {                                                                    \
            float *restrict out = c + r * ldc;                                                              \
            if (columns == NV * GALAXY_WIDTH) {                                                             \
                for (int v = 0; v < NV; v++) {                                                              \
                    vec y = alpha * acc[r][v];                                                              \
                    if (beta != 0) {                                                                        \
                        vec old;                                                                            \
                        memcpy(&old, out + v * GALAXY_WIDTH, sizeof(vec));                                  \
                        y += beta * old;                                                                    \
                    }                                                                                       \
                    memcpy(out + v * GALAXY_WIDTH, &y, sizeof(vec));                                        \
                }                                                                                           \
            } else {                                                                                        \
                float row[NV * GALAXY_WIDTH];                                                               \
                memcpy(row, acc[r], sizeof(row));                                                           \
                for (int j = 0; j < columns; j++)                                                           \
                    out[j] = beta != 0 ? alpha * row[j] + beta * out[j] : alpha * row[j];                   \
            }                                                                                               \
        }                                                                                                   \
    }

GALAXY_GEMM_TILE(gemm_tile_wide, 2, GALAXY_ROWS)
GALAXY_GEMM_TILE(gemm_tile_narrow, 1, GALAXY_ROWS)
GALAXY_GEMM_TILE(gemm_row_wide, 2, 1)
GALAXY_GEMM_TILE(gemm_row_narrow, 1, 1)
#undef GALAXY_GEMM_TILE

// C = alpha * A · B + beta * C, all row-major, in blocks that keep a panel of B in L1 and a block
// of A in L2. Narrow last columns are copied, zero-padded, into `pad` (GALAXY_GEMM_KC * 2 vectors).
GALAXY_TARGET
static void GALAXY_LOOP(sgemm)(int m, int n, int k, float alpha, const float *a, ptrdiff_t lda, const float *b,
                               ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc, float *pad) {
    const int wide = 2 * GALAXY_WIDTH;
    for (int k0 = 0; k0 < k; k0 += GALAXY_GEMM_KC) {
        const int kc = k - k0 < GALAXY_GEMM_KC ? k - k0 : GALAXY_GEMM_KC;
        const float block_beta = k0 == 0 ? beta : 1;
        for (int m0 = 0; m0 < m; m0 += GALAXY_GEMM_MC) {
            const int mc = m - m0 < GALAXY_GEMM_MC ? m - m0 : GALAXY_GEMM_MC;
            for (int n0 = 0; n0 < n; n0 += wide) {
                const int columns = n - n0 < wide ? n - n0 : wide;
                const float *panel = b + (ptrdiff_t)k0 * ldb + n0;
                ptrdiff_t panel_ld = ldb;
                const int narrow = columns <= GALAXY_WIDTH;
                const int padded = narrow ? GALAXY_WIDTH : wide;
                if (columns < padded) {
                    for (int p = 0; p < kc; p++) {
                        memcpy(pad + p * padded, panel + p * ldb, sizeof(float) * (size_t)columns);
                        memset(pad + p * padded + columns, 0, sizeof(float) * (size_t)(padded - columns));
                    }
                    panel = pad;
                    panel_ld = padded;
                }
                for (int r0 = 0; r0 < mc; r0 += GALAXY_ROWS) {
                    const int rows = mc - r0 < GALAXY_ROWS ? mc - r0 : GALAXY_ROWS;
                    const float *ap = a + (ptrdiff_t)(m0 + r0) * lda + k0;
                    float *cp = c + (ptrdiff_t)(m0 + r0) * ldc + n0;
                    if (rows == 1) {
                        (narrow ? GALAXY_LOOP(gemm_row_narrow) : GALAXY_LOOP(gemm_row_wide))(
                            rows, kc, ap, lda, panel, panel_ld, alpha, block_beta, cp, ldc, columns);
                    } else {
                        (narrow ? GALAXY_LOOP(gemm_tile_narrow) : GALAXY_LOOP(gemm_tile_wide))(
                            rows, kc, ap, lda, panel, panel_ld, alpha, block_beta, cp, ldc, columns);
                    }
                }
            }
        }
    }
}

// bf16 GEMM (reduced-precision models): A holds bf16 pairs along k, prepacked at load
// (galaxy_pack_bf16_pairs); B is fp32, rounded to bf16 pairs one panel at a time. Each product of
// two bf16 values is exact in fp32, so "add the odd pair's product, then the even one's", rounded
// once per add, is what AVX512-BF16's vdpbf16ps computes: this emulation and the native path
// (galaxy_kernels.c) agree bit for bit, denormals aside (the instruction flushes them).
typedef unsigned int GALAXY_LOOP(bits) __attribute__((vector_size(4 * GALAXY_WIDTH), aligned(4)));

// Rounds fp32 to bf16 to nearest even (NaN stays NaN): the 16 high bits of the result.
GALAXY_TARGET
static inline GALAXY_LOOP(bits) GALAXY_LOOP(round_bf16)(GALAXY_LOOP(bits) u) {
    typedef GALAXY_LOOP(bits) bits;
    const bits nan = (bits)((u & 0x7fffffffu) > 0x7f800000u);
    const bits rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    return (rounded & ~nan) | ((u | 0x00400000u) & 0xffff0000u & nan);
}

// Packs rows 2q and 2q + 1 of a B panel (`columns` of them, zero-padded to `padded`) into
// `pairs` rows of bf16 pairs: the even row's value in the low half, the odd row's in the high.
// A missing odd last row packs as zero.
GALAXY_TARGET
static void GALAXY_LOOP(pack_bf16_panel)(const float *b, ptrdiff_t ldb, int rows, int columns, int padded,
                                         unsigned int *restrict out) {
    typedef GALAXY_LOOP(bits) bits;
    for (int q = 0; 2 * q < rows; q++) {
        const float *even = b + (ptrdiff_t)(2 * q) * ldb;
        const float *odd = 2 * q + 1 < rows ? even + ldb : NULL;
        unsigned int *restrict dst = out + (ptrdiff_t)q * padded;
        int j = 0;
        for (; j + GALAXY_WIDTH <= columns; j += GALAXY_WIDTH) {
            bits e, o = (bits){0};
            memcpy(&e, even + j, sizeof(bits));
            if (odd) memcpy(&o, odd + j, sizeof(bits));
            const bits packed = (GALAXY_LOOP(round_bf16)(e) >> 16) | GALAXY_LOOP(round_bf16)(o);
            memcpy(dst + j, &packed, sizeof(bits));
        }
        for (; j < padded; j++) {
            bits e = (bits){0}, o = (bits){0};
            if (j < columns) {
                memcpy(&e, even + j, sizeof(float));
                if (odd) memcpy(&o, odd + j, sizeof(float));
            }
            const bits packed = (GALAXY_LOOP(round_bf16)(e) >> 16) | GALAXY_LOOP(round_bf16)(o);
            dst[j] = packed[0];
        }
    }
}

// Emulated bf16 micro-kernels: C[rows][NV * GALAXY_WIDTH] (+)= A · B with A's pairs broadcast and
// B's packed panel read in place; `accumulate` adds to C (later k blocks), else C is only written.
#define GALAXY_BF16_TILE(NAME, NV)                                                                          \
    GALAXY_TARGET                                                                                           \
    static void GALAXY_LOOP(NAME)(int rows, int pairs, const unsigned int *restrict a, ptrdiff_t lda,        \
                                  const unsigned int *restrict b, ptrdiff_t ldb, int accumulate,            \
                                  float *restrict c, ptrdiff_t ldc, int columns) {                          \
        typedef GALAXY_LOOP(vec) vec;                                                                       \
        typedef GALAXY_LOOP(bits) bits;                                                                     \
        const unsigned int *ar[GALAXY_ROWS];                                                                \
        for (int r = 0; r < GALAXY_ROWS; r++) ar[r] = a + (r < rows ? r : 0) * lda;                         \
        vec acc[GALAXY_ROWS][NV];                                                                           \
        for (int r = 0; r < GALAXY_ROWS; r++)                                                               \
            for (int v = 0; v < NV; v++) acc[r][v] = (vec){0};                                              \
        for (int q = 0; q < pairs; q++) {                                                                   \
            vec lo[NV], hi[NV];                                                                             \
            for (int v = 0; v < NV; v++) {                                                                  \
                bits packed;                                                                                \
                memcpy(&packed, b + q * ldb + v * GALAXY_WIDTH, sizeof(bits));                              \
                lo[v] = (vec)(packed << 16);                                                                \
                hi[v] = (vec)(packed & 0xffff0000u);                                                        \
            }                                                                                               \
            for (int r = 0; r < GALAXY_ROWS; r++) {                                                         \
                const unsigned int pair = ar[r][q];                                                         \
                const unsigned int lo_bits = pair << 16, hi_bits = pair & 0xffff0000u;                      \
                float x_lo, x_hi;                                                                           \
                memcpy(&x_lo, &lo_bits, sizeof(float));                                                     \
                memcpy(&x_hi, &hi_bits, sizeof(float));                                                     \
                for (int v = 0; v < NV; v++) {                                                              \
                    acc[r][v] += x_hi * hi[v];                                                              \
                    acc[r][v] += x_lo * lo[v];                                                              \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
        for (int r = 0; r < rows; r++) {                                                                    \
            float row[NV * GALAXY_WIDTH];                                                                   \
            memcpy(row, acc[r], sizeof(row));                                                               \
            float *restrict out = c + r * ldc;                                                              \
            for (int j = 0; j < columns; j++) out[j] = accumulate ? out[j] + row[j] : row[j];               \
        }                                                                                                   \
    }

GALAXY_BF16_TILE(bf16_tile_wide, 2)
GALAXY_BF16_TILE(bf16_tile_narrow, 1)
#undef GALAXY_BF16_TILE

typedef void (*GALAXY_LOOP(bf16_tile_fn))(int, int, const unsigned int *restrict, ptrdiff_t,
                                          const unsigned int *restrict, ptrdiff_t, int, float *restrict, ptrdiff_t,
                                          int);
typedef void (*GALAXY_LOOP(bf16_pack_fn))(const float *, ptrdiff_t, int, int, int, unsigned int *restrict);

// One block of packed B pairs (`pairs` rows of `columns` values, row stride `ldp`) times every
// row of A's block, GALAXY_ROWS rows at a time; `accumulate` adds to C (later k blocks).
GALAXY_TARGET
static void GALAXY_LOOP(bf16_block_rows)(int m, int pairs, const unsigned int *a, ptrdiff_t lda,
                                         const unsigned int *panel, ptrdiff_t ldp, int accumulate, float *c,
                                         ptrdiff_t ldc, int columns, GALAXY_LOOP(bf16_tile_fn) wide_tile,
                                         GALAXY_LOOP(bf16_tile_fn) narrow_tile) {
    for (int r0 = 0; r0 < m; r0 += GALAXY_ROWS) {
        const int rows = m - r0 < GALAXY_ROWS ? m - r0 : GALAXY_ROWS;
        (columns <= GALAXY_WIDTH ? narrow_tile : wide_tile)(rows, pairs, a + (ptrdiff_t)r0 * lda, lda, panel, ldp,
                                                           accumulate, c + (ptrdiff_t)r0 * ldc, ldc, columns);
    }
}

// C = A · B for bf16-pair A `[m][ceil(k / 2)]` (row stride `lda` pairs) and fp32 B `[k][n]`, in
// panels of GALAXY_GEMM_KC rows of B packed into `pad`; `wide` and `narrow` are the micro-kernels
// of GALAXY_ROWS rows and 2 or 1 vectors of GALAXY_WIDTH columns, `pack` the panel packing.
GALAXY_TARGET
static void GALAXY_LOOP(sgemm_bf16_with)(int m, int n, int k, const unsigned int *a, ptrdiff_t lda, const float *b,
                                         ptrdiff_t ldb, float *c, ptrdiff_t ldc, unsigned int *pad,
                                         GALAXY_LOOP(bf16_pack_fn) pack, GALAXY_LOOP(bf16_tile_fn) wide_tile,
                                         GALAXY_LOOP(bf16_tile_fn) narrow_tile) {
    const int wide = 2 * GALAXY_WIDTH;
    for (int k0 = 0; k0 < k; k0 += GALAXY_GEMM_KC) {
        const int kc = k - k0 < GALAXY_GEMM_KC ? k - k0 : GALAXY_GEMM_KC;
        for (int n0 = 0; n0 < n; n0 += wide) {
            const int columns = n - n0 < wide ? n - n0 : wide;
            const int padded = columns <= GALAXY_WIDTH ? GALAXY_WIDTH : wide;
            pack(b + (ptrdiff_t)k0 * ldb + n0, ldb, kc, columns, padded, pad);
            GALAXY_LOOP(bf16_block_rows)(m, (kc + 1) / 2, a + k0 / 2, lda, pad, padded, k0 > 0, c + n0, ldc, columns,
                                         wide_tile, narrow_tile);
        }
    }
}

// The same product with B already packed as pairs `[ceil(k / 2)][ldp]` (rows zero-padded to a
// multiple of 32 columns): the same blocking and order of sums, so the same bits as above.
GALAXY_TARGET
static void GALAXY_LOOP(sgemm_bf16_packed_with)(int m, int n, int k, const unsigned int *a, ptrdiff_t lda,
                                                const unsigned int *bp, ptrdiff_t ldp, float *c, ptrdiff_t ldc,
                                                GALAXY_LOOP(bf16_tile_fn) wide_tile,
                                                GALAXY_LOOP(bf16_tile_fn) narrow_tile) {
    const int wide = 2 * GALAXY_WIDTH;
    for (int k0 = 0; k0 < k; k0 += GALAXY_GEMM_KC) {
        const int kc = k - k0 < GALAXY_GEMM_KC ? k - k0 : GALAXY_GEMM_KC;
        for (int n0 = 0; n0 < n; n0 += wide) {
            GALAXY_LOOP(bf16_block_rows)(m, (kc + 1) / 2, a + k0 / 2, lda, bp + (ptrdiff_t)(k0 / 2) * ldp + n0, ldp,
                                         k0 > 0, c + n0, ldc, n - n0 < wide ? n - n0 : wide, wide_tile, narrow_tile);
        }
    }
}

// (`a_panels`, A's rows as panels for the native path's column tiles, is not needed here.)
GALAXY_TARGET
static void GALAXY_LOOP(sgemm_bf16_packed)(int m, int n, int k, const unsigned int *a, ptrdiff_t lda,
                                           const unsigned int *a_panels, const unsigned int *bp, ptrdiff_t ldp,
                                           float *c, ptrdiff_t ldc) {
    (void)a_panels;
    GALAXY_LOOP(sgemm_bf16_packed_with)(m, n, k, a, lda, bp, ldp, c, ldc, GALAXY_LOOP(bf16_tile_wide),
                                        GALAXY_LOOP(bf16_tile_narrow));
}

GALAXY_TARGET
static void GALAXY_LOOP(sgemm_bf16)(int m, int n, int k, const unsigned int *a, ptrdiff_t lda, const float *b,
                                    ptrdiff_t ldb, float *c, ptrdiff_t ldc, unsigned int *pad) {
    GALAXY_LOOP(sgemm_bf16_with)(m, n, k, a, lda, b, ldb, c, ldc, pad, GALAXY_LOOP(pack_bf16_panel),
                                 GALAXY_LOOP(bf16_tile_wide), GALAXY_LOOP(bf16_tile_narrow));
}
