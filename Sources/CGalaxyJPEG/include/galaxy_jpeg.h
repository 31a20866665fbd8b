#ifndef GALAXY_JPEG_H
#define GALAXY_JPEG_H
// A thin C layer over libjpeg-turbo's libjpeg API. It exists because libjpeg reports errors by
// longjmp, which Swift cannot catch: every entry point here sets its own recovery point and
// returns a status instead. Only GalaxyImage includes it.
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What went wrong, as a category the Swift side turns into `ImageError.Code`.
typedef enum {
    GJ_OK = 0,
    GJ_NOT_JPEG = 1,
    GJ_TRUNCATED = 2,
    GJ_UNSUPPORTED = 3,
    GJ_CORRUPT = 4,
    GJ_TOO_LARGE = 5,
} gj_status;

/// The colour model of a JPEG's components, as decoded.
typedef enum { GJ_COLOR_GRAY = 0, GJ_COLOR_RGB = 1, GJ_COLOR_CMYK = 2 } gj_color;

typedef struct {
    int width;
    int height;
    int components;
    int color;        // gj_color
    int precision;    // bits per sample
    int progressive;
    int arithmetic;
} gj_header;

typedef struct gj_decoder gj_decoder;

gj_decoder *gj_decoder_create(void);
void gj_decoder_destroy(gj_decoder *decoder);

/// The message of the last failure (empty when none).
const char *gj_decoder_message(const gj_decoder *decoder);

/// Parses the headers of `data` (which must stay valid until `gj_decode_region` returns).
int gj_read_header(gj_decoder *decoder, const unsigned char *data, size_t size, gj_header *header);

/// Decodes the rectangle (x, y, width, height), in the coordinates of the image scaled by
/// 1/`scale_denom`, straight into `out`: row r of the rectangle starts at
/// `out + r * out_stride + *skip_pixels * channels` (3 bytes a pixel, RGB, or 4 for CMYK as the
/// stored inverted Adobe values). libjpeg widens the decoded columns to whole iMCUs (at most 31
/// pixels more on the left and on the right), so `out_stride` must hold `width + 64` pixels.
/// Columns outside are not reconstructed and rows above are skipped. When `read_to_end` is set,
/// the stream is read up to its end marker so truncation anywhere is reported. Call after
/// `gj_read_header`.
int gj_decode_region(
    gj_decoder *decoder, int scale_denom, int x, int y, int width, int height, int read_to_end,
    unsigned char *out, size_t out_stride, int *skip_pixels);

/// Forgets the current image (after `gj_read_header` without a decode).
void gj_abort(gj_decoder *decoder);

/// Options of `gj_encode`.
typedef struct {
    int quality;            // 1...100
    int h_sampling;         // luma sampling factors: 1x1 = 4:4:4, 2x1 = 4:2:2, 2x2 = 4:2:0, ...
    int v_sampling;
    int color;              // gj_color of the stored image; GJ_COLOR_CMYK stores YCCK
    int progressive;
    int arithmetic;
    int optimize_huffman;
    int restart_interval;   // in MCUs; 0 for none
} gj_encode_options;

/// Encodes `pixels` (3 bytes a pixel RGB, or 4 bytes a pixel inverted CMYK when `color` is
/// GJ_COLOR_CMYK). On success `*out` holds `*out_size` bytes to release with `gj_free`.
/// `message` receives up to `message_size` bytes of explanation on failure.
int gj_encode(
    const unsigned char *pixels, int width, int height, const gj_encode_options *options,
    unsigned char **out, unsigned long *out_size, char *message, size_t message_size);

void gj_free(void *pointer);

#ifdef __cplusplus
}
#endif
#endif
