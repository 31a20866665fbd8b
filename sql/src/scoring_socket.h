/*
 * The client side of the scoring socket: one connection per backend to the daemon's resident
 * model, a request (model, JPEG bytes) and its reply. The wire format is described in
 * docs/scoring-socket.md; Sources/GalaxyService/ScoringSocket holds the daemon's side.
 */
#ifndef GALAXY_SCORING_SOCKET_H
#define GALAXY_SCORING_SOCKET_H

#include "postgres.h"

#define SCORING_REPLY_MAX_FIELDS 16

typedef struct ScoringRequest
{
	int64		model_id;
	const char *model_name;
	const char *model_sha256;	/* hex */
	const char *jpeg;
	uint32		jpeg_length;
} ScoringRequest;

/*
 * A reply: status 0 carries label, class, probabilities, model, model_sha256, image_sha256,
 * preprocessing and timings (JSON); any other status carries an error code, message and hint.
 */
typedef struct ScoringReply
{
	uint8		status;
	int			field_count;
	char	   *fields[SCORING_REPLY_MAX_FIELDS];	/* palloc'd, NUL-terminated */
} ScoringReply;

/*
 * Sends the request to the daemon listening at socket_path and waits for its reply, at most
 * timeout_ms, while honouring query cancel and statement_timeout. Raises a GZ error when the
 * daemon is absent, goes away mid-request or does not answer in time.
 */
extern void scoring_socket_request(const char *socket_path, const ScoringRequest *request,
								   int timeout_ms, ScoringReply *reply);

#endif
