#include "galaxy_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

// Progressive files with absurd numbers of scans can make decoding arbitrarily slow; real
// files have around ten.
#define GJ_MAX_SCANS 500

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int status;
    char message[JMSG_LENGTH_MAX];
} gj_error;

typedef struct {
    struct jpeg_progress_mgr pub;
    gj_error *error;
} gj_progress;

struct gj_decoder {
    struct jpeg_decompress_struct cinfo;
    gj_error error;
    gj_progress progress;
    unsigned char *row;
    size_t row_capacity;
};

static int gj_status_of(int code) {
    switch (code) {
    case JERR_NO_SOI:
        return GJ_NOT_JPEG;
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF:
        return GJ_TRUNCATED;
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
    case JERR_NOT_COMPILED:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_ARITH_NOTIMPL:
    case JERR_EMPTY_IMAGE:
    case JERR_FRACT_SAMPLE_NOTIMPL:
    case JERR_CCIR601_NOTIMPL:
    case JERR_COMPONENT_COUNT:
        return GJ_UNSUPPORTED;
    case JERR_IMAGE_TOO_BIG:
        return GJ_TOO_LARGE;
    default:
        return GJ_CORRUPT;
    }
}

static void gj_error_exit(j_common_ptr cinfo) {
    gj_error *error = (gj_error *)cinfo->err;
    error->status = gj_status_of(error->pub.msg_code);
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

// Warnings are recoverable except running out of data: libjpeg would pad the image with grey,
// and a truncated file must be reported, not scored.
static void gj_emit_message(j_common_ptr cinfo, int level) {
    gj_error *error = (gj_error *)cinfo->err;
    if (level < 0) {
        error->pub.num_warnings++;
        if (error->pub.msg_code == JWRN_JPEG_EOF) {
            error->status = GJ_TRUNCATED;
            (*cinfo->err->format_message)(cinfo, error->message);
            longjmp(error->jump, 1);
        }
    }
}

static void gj_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void gj_progress_monitor(j_common_ptr cinfo) {
    gj_progress *progress = (gj_progress *)cinfo->progress;
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->is_decompressor && dinfo->input_scan_number > GJ_MAX_SCANS) {
        progress->error->status = GJ_CORRUPT;
        snprintf(progress->error->message, sizeof progress->error->message,
                 "progressive JPEG has more than %d scans", GJ_MAX_SCANS);
        longjmp(progress->error->jump, 1);
    }
}

static void gj_install_errors(gj_error *error) {
    jpeg_std_error(&error->pub);
    error->pub.error_exit = gj_error_exit;
    error->pub.emit_message = gj_emit_message;
    error->pub.output_message = gj_output_message;
    error->status = GJ_OK;
    error->message[0] = 0;
}

gj_decoder *gj_decoder_create(void) {
    gj_decoder *decoder = calloc(1, sizeof *decoder);
    if (!decoder) return NULL;
    gj_install_errors(&decoder->error);
    decoder->cinfo.err = &decoder->error.pub;
    if (setjmp(decoder->error.jump)) {
        free(decoder);
        return NULL;
    }
    jpeg_create_decompress(&decoder->cinfo);
    decoder->progress.pub.progress_monitor = gj_progress_monitor;
    decoder->progress.error = &decoder->error;
    decoder->cinfo.progress = &decoder->progress.pub;
    return decoder;
}

void gj_decoder_destroy(gj_decoder *decoder) {
    if (!decoder) return;
    jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder->row);
    free(decoder);
}

const char *gj_decoder_message(const gj_decoder *decoder) { return decoder->error.message; }

void gj_abort(gj_decoder *decoder) { jpeg_abort_decompress(&decoder->cinfo); }

int gj_read_header(gj_decoder *decoder, const unsigned char *data, size_t size, gj_header *header) {
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    decoder->error.status = GJ_OK;
    decoder->error.message[0] = 0;
    decoder->error.pub.num_warnings = 0;
    memset(header, 0, sizeof *header);
    if (setjmp(decoder->error.jump)) {
        jpeg_abort_decompress(cinfo);
        return decoder->error.status;
    }
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
        decoder->error.status = GJ_CORRUPT;
        snprintf(decoder->error.message, sizeof decoder->error.message,
                 "the stream holds tables but no image");
        jpeg_abort_decompress(cinfo);
        return GJ_CORRUPT;
    }
    header->width = (int)cinfo->image_width;
    header->height = (int)cinfo->image_height;
    header->components = cinfo->num_components;
    header->precision = cinfo->data_precision;
    header->progressive = cinfo->progressive_mode ? 1 : 0;
    header->arithmetic = cinfo->arith_code ? 1 : 0;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        header->color = GJ_COLOR_GRAY;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        header->color = GJ_COLOR_CMYK;
        break;
    default:
        header->color = GJ_COLOR_RGB;
        break;
    }
    return GJ_OK;
}

int gj_decode_region(
    gj_decoder *decoder, int scale_denom, int x, int y, int width, int height, int read_to_end,
    unsigned char *out, size_t out_stride, int *skip_pixels) {
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    *skip_pixels = 0;
    if (setjmp(decoder->error.jump)) {
        jpeg_abort_decompress(cinfo);
        return decoder->error.status;
    }
    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGB;
    cinfo->scale_num = 1;
    cinfo->scale_denom = (unsigned int)scale_denom;
    cinfo->dct_method = JDCT_ISLOW;
    jpeg_start_decompress(cinfo);

    int channels = cinfo->output_components;
    if (x < 0 || y < 0 || width <= 0 || height <= 0 || (unsigned)(x + width) > cinfo->output_width ||
        (unsigned)(y + height) > cinfo->output_height) {
        decoder->error.status = GJ_CORRUPT;
        snprintf(decoder->error.message, sizeof decoder->error.message,
                 "region %dx%d+%d+%d lies outside the %ux%u decoded image", width, height, x, y,
                 cinfo->output_width, cinfo->output_height);
        jpeg_abort_decompress(cinfo);
        return GJ_CORRUPT;
    }

    // libjpeg widens the column range to whole iMCUs; rows are written from the widened start.
    JDIMENSION crop_x = (JDIMENSION)x, crop_width = (JDIMENSION)width;
    if (crop_width < cinfo->output_width) jpeg_crop_scanline(cinfo, &crop_x, &crop_width);
    size_t row_bytes = (size_t)crop_width * (size_t)channels;
    if (row_bytes > out_stride) {
        decoder->error.status = GJ_CORRUPT;
        snprintf(decoder->error.message, sizeof decoder->error.message,
                 "decoded rows of %zu bytes do not fit rows of %zu bytes", row_bytes, out_stride);
        jpeg_abort_decompress(cinfo);
        return GJ_CORRUPT;
    }
    *skip_pixels = x - (int)crop_x;

    if (y > 0) jpeg_skip_scanlines(cinfo, (JDIMENSION)y);
    for (int r = 0; r < height; r++) {
        JSAMPROW row = out + (size_t)r * out_stride;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
            decoder->error.status = GJ_TRUNCATED;
            snprintf(decoder->error.message, sizeof decoder->error.message,
                     "the decoder stopped at row %d", y + r);
            jpeg_abort_decompress(cinfo);
            return GJ_TRUNCATED;
        }
    }
    if (read_to_end) {
        // Skipping to the very end would mark the stream complete without reading it, so skip
        // to the last row and decode that one: the entropy data is then read to its end.
        JDIMENSION rest = cinfo->output_height - cinfo->output_scanline;
        if (rest > 1) jpeg_skip_scanlines(cinfo, rest - 1);
        if (rest > 0) {
            if (row_bytes > decoder->row_capacity) {
                unsigned char *grown = realloc(decoder->row, row_bytes);
                if (!grown) {
                    decoder->error.status = GJ_TOO_LARGE;
                    snprintf(decoder->error.message, sizeof decoder->error.message,
                             "out of memory for a %zu-byte row", row_bytes);
                    jpeg_abort_decompress(cinfo);
                    return GJ_TOO_LARGE;
                }
                decoder->row = grown;
                decoder->row_capacity = row_bytes;
            }
            JSAMPROW last = decoder->row;
            if (jpeg_read_scanlines(cinfo, &last, 1) != 1) {
                decoder->error.status = GJ_TRUNCATED;
                snprintf(decoder->error.message, sizeof decoder->error.message,
                         "the decoder stopped before the last row");
                jpeg_abort_decompress(cinfo);
                return GJ_TRUNCATED;
            }
        }
        jpeg_finish_decompress(cinfo);
    } else {
        jpeg_abort_decompress(cinfo);
    }
    return GJ_OK;
}

int gj_encode(
    const unsigned char *pixels, int width, int height, const gj_encode_options *options,
    unsigned char **out, unsigned long *out_size, char *message, size_t message_size) {
    struct jpeg_compress_struct cinfo;
    gj_error error;
    gj_install_errors(&error);
    cinfo.err = &error.pub;
    *out = NULL;
    *out_size = 0;
    if (setjmp(error.jump)) {
        if (message && message_size) snprintf(message, message_size, "%s", error.message);
        jpeg_destroy_compress(&cinfo);
        free(*out);
        *out = NULL;
        return error.status == GJ_OK ? GJ_CORRUPT : error.status;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, out, out_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    int cmyk = options->color == GJ_COLOR_CMYK;
    cinfo.input_components = cmyk ? 4 : 3;
    cinfo.in_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGB;
    jpeg_set_defaults(&cinfo);
    if (cmyk) jpeg_set_colorspace(&cinfo, JCS_YCCK);
    if (options->color == GJ_COLOR_GRAY) jpeg_set_colorspace(&cinfo, JCS_GRAYSCALE);
    jpeg_set_quality(&cinfo, options->quality, TRUE);
    if (options->color != GJ_COLOR_GRAY) {
        cinfo.comp_info[0].h_samp_factor = options->h_sampling;
        cinfo.comp_info[0].v_samp_factor = options->v_sampling;
        for (int c = 1; c < cinfo.num_components; c++) {
            cinfo.comp_info[c].h_samp_factor = 1;
            cinfo.comp_info[c].v_samp_factor = 1;
        }
        // In YCCK the black channel keeps full resolution, like luma.
        if (cmyk) {
            cinfo.comp_info[3].h_samp_factor = options->h_sampling;
            cinfo.comp_info[3].v_samp_factor = options->v_sampling;
        }
    }
    cinfo.arith_code = options->arithmetic ? TRUE : FALSE;
    cinfo.optimize_coding = options->optimize_huffman ? TRUE : FALSE;
    cinfo.restart_interval = (unsigned int)options->restart_interval;
    if (options->progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)cinfo.input_components;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return GJ_OK;
}

void gj_free(void *pointer) { free(pointer); }
