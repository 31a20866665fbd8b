/*
 * The client side of the scoring socket: one connection per backend to the daemon's resident
 * model, a request (model, JPEG bytes) and its reply. The wire format is described in
 * docs/scoring-socket.md; Sources/GalaxyService/ScoringSocket holds the daemon's side.
 */
#ifndef GALAXY_SCORING_SOCKET_H
#define GALAXY_SCORING_SOCKET_H

#include "postgres.h"

#define SCORING_REPLY_MAX_FIELDS 16

/* The most images one galaxy.classify_many request carries (the daemon's limit too). */
#define SCORING_MAX_IMAGES 1024

/* Images to score with one model: one (GZQ1) or several (GZM1) in a request. */
typedef struct ScoringRequest
{
	int64		model_id;
	const char *model_name;
	const char *model_sha256;	/* hex */
	int			image_count;
	const char *const *jpegs;
	const uint32 *jpeg_lengths;
} ScoringRequest;

/*
 * A reply: status 0 carries label, class, probabilities, model, model_sha256, preprocessing and
 * timings (JSON); any other status carries an error code, message and hint.
 */
typedef struct ScoringReply
{
	uint8		status;
	int			field_count;
	char	   *fields[SCORING_REPLY_MAX_FIELDS];	/* palloc'd, NUL-terminated */
} ScoringReply;

/*
 * Sends the request to the daemon listening at socket_path (a Unix socket's path, or
 * tcp://HOST:PORT with the shared secret `secret`) and waits for its replies (one per
 * image, in order, into `replies`), at most timeout_ms, while honouring query cancel and
 * statement_timeout. Raises a GZ error when the daemon is absent, goes away mid-request or does
 * not answer in time.
 */
extern void scoring_socket_request(const char *socket_path, const char *secret,
								   const ScoringRequest *request, int timeout_ms, ScoringReply *replies);

#endif
