/*
 * One persistent connection per backend to the scoring daemon, over its Unix socket or over TCP
 * (which starts with the shared secret). Every wait, connecting included, is a
 * WaitLatchOrSocket on the backend's latch and the socket together, so pg_cancel_backend,
 * statement_timeout and postmaster death end it at once; the connection is closed whenever a
 * request does not finish, so a late reply can never be read as the answer to the next one.
 */
#include "postgres.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "scoring_socket.h"

#define REQUEST_MAGIC "GZQ1"
#define REPLY_MAGIC "GZR1"
#define MANY_REQUEST_MAGIC "GZM1"
#define MANY_REPLY_MAGIC "GZN1"
#define AUTH_MAGIC "GZA1"
#define TCP_PREFIX "tcp://"
/* One image's reply holds a label, probabilities and provenance: far below this. */
#define REPLY_MAX_BYTES_PER_IMAGE (1 << 16)

static int	scoring_fd = -1;
static char scoring_fd_path[256];

static void
close_scoring_connection(void)
{
	if (scoring_fd >= 0)
		close(scoring_fd);
	scoring_fd = -1;
}

static void
raise_no_daemon(const char *socket_path, int error_number)
{
	bool		tcp = strncmp(socket_path, TCP_PREFIX, strlen(TCP_PREFIX)) == 0;

	errno = error_number;
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE('G', 'Z', '0', '0', '7')),
			 errmsg("no scoring daemon answers on the scoring socket \"%s\": %m", socket_path),
			 tcp ? errhint("Start one with galaxy serve --scoring-tcp HOST:PORT --scoring-secret-file FILE; galaxy.scoring_socket must name the same address.")
			 : errhint("Start one with galaxy serve --scoring-socket %s; galaxy.scoring_socket must name the same path.",
					   socket_path)));
}

static void wait_for_socket(const char *socket_path, int event, TimestampTz deadline, int timeout_ms);

static void
raise_bad_address(const char *address, const char *why)
{
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '8')),
			 errmsg("galaxy.scoring_socket \"%s\" %s", address, why),
			 errhint("Use the absolute path given to galaxy serve --scoring-socket, or tcp://HOST:PORT as given to --scoring-tcp.")));
}

static int
connect_unix(const char *socket_path)
{
	struct sockaddr_un address;
	int			fd;

	if (socket_path[0] != '/')
		raise_bad_address(socket_path, "is neither an absolute path nor tcp://HOST:PORT");
	if (strlen(socket_path) >= sizeof(address.sun_path))
		raise_bad_address(socket_path, "is longer than a Unix socket path may be (107 bytes)");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		ereport(ERROR, (errcode_for_socket_access(), errmsg("could not create a socket: %m")));
	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	strlcpy(address.sun_path, socket_path, sizeof(address.sun_path));
	/* A Unix socket connects at once or fails at once (EAGAIN: the daemon's backlog is full). */
	if (connect(fd, (struct sockaddr *) &address, sizeof(address)) < 0)
	{
		int			error_number = errno;

		close(fd);
		raise_no_daemon(socket_path, error_number);
	}
	return fd;
}

/* tcp://HOST:PORT (HOST may be [IPv6]); connects within the deadline, serving interrupts. */
static void
connect_tcp(const char *address, TimestampTz deadline, int timeout_ms)
{
	char		host[256];
	const char *rest = address + strlen(TCP_PREFIX);
	const char *colon = strrchr(rest, ':');
	const char *port;
	struct addrinfo hints;
	struct addrinfo *found = NULL;
	int			rc;
	int			fd;
	int			error_number = 0;
	socklen_t	length = sizeof(error_number);
	int			one = 1;

	if (colon == NULL || colon == rest || colon[1] == '\0' || (size_t) (colon - rest) >= sizeof(host))
		raise_bad_address(address, "is not tcp://HOST:PORT");
	memcpy(host, rest, colon - rest);
	host[colon - rest] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']')
	{
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = '\0';
	}
	port = colon + 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &found);
	if (rc != 0 || found == NULL)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '0', '7')),
				 errmsg("cannot resolve the scoring daemon's address \"%s\": %s", address, gai_strerror(rc)),
				 errhint("Give galaxy.scoring_socket a numeric address, e.g. tcp://10.0.0.5:7433.")));
	fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, found->ai_protocol);
	if (fd < 0)
	{
		freeaddrinfo(found);
		ereport(ERROR, (errcode_for_socket_access(), errmsg("could not create a socket: %m")));
	}
	rc = connect(fd, found->ai_addr, found->ai_addrlen);
	error_number = errno;
	freeaddrinfo(found);
	scoring_fd = fd;
	if (rc < 0 && error_number != EINPROGRESS)
	{
		close_scoring_connection();
		raise_no_daemon(address, error_number);
	}
	if (rc < 0)
	{
		wait_for_socket(address, WL_SOCKET_WRITEABLE, deadline, timeout_ms);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error_number, &length) < 0 || error_number != 0)
		{
			close_scoring_connection();
			raise_no_daemon(address, error_number ? error_number : errno);
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Connects unless a connection to the same address is open; returns whether it was reused. A
 * new TCP connection starts with the shared secret (appended to `frame` before the request).
 */
static bool
ensure_connected(const char *socket_path, const char *secret, TimestampTz deadline, int timeout_ms,
				 StringInfo auth)
{
	bool		tcp = strncmp(socket_path, TCP_PREFIX, strlen(TCP_PREFIX)) == 0;

	if (scoring_fd >= 0 && strcmp(scoring_fd_path, socket_path) == 0)
		return true;
	close_scoring_connection();
	if (strlen(socket_path) >= sizeof(scoring_fd_path))
		raise_bad_address(socket_path, "is too long");
	if (tcp && (secret == NULL || secret[0] == '\0'))
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '8')),
				 errmsg("galaxy.scoring_secret is not set: a TCP scoring socket needs the daemon's shared secret"),
				 errhint("As a superuser: ALTER DATABASE ... SET galaxy.scoring_secret = 'the contents of --scoring-secret-file'.")));
	if (tcp)
		connect_tcp(socket_path, deadline, timeout_ms);
	else
		scoring_fd = connect_unix(socket_path);
	strlcpy(scoring_fd_path, socket_path, sizeof(scoring_fd_path));
	if (tcp)
	{
		uint32		be = pg_hton32((uint32) strlen(secret));

		appendBinaryStringInfo(auth, AUTH_MAGIC, 4);
		appendBinaryStringInfo(auth, (char *) &be, 4);
		appendStringInfoString(auth, secret);
	}
	return false;
}

static void
put_u16(StringInfo buffer, uint16 value)
{
	uint16		be = pg_hton16(value);

	appendBinaryStringInfo(buffer, (char *) &be, 2);
}

static void
put_u32(StringInfo buffer, uint32 value)
{
	uint32		be = pg_hton32(value);

	appendBinaryStringInfo(buffer, (char *) &be, 4);
}

static void
put_text(StringInfo buffer, const char *text)
{
	size_t		length = text ? strlen(text) : 0;

	put_u16(buffer, (uint16) length);
	appendBinaryStringInfo(buffer, text ? text : "", (int) length);
}

/*
 * The request frame: GZQ1 (one image) or GZM1 (several), body length, then model id, name,
 * sha256, [the image count,] and each image as u32 length + bytes.
 */
static void
encode_request(const ScoringRequest *request, StringInfo frame)
{
	StringInfoData body;
	uint64		id = (uint64) request->model_id;
	bool		many = request->image_count != 1;

	initStringInfo(&body);
	put_u32(&body, (uint32) (id >> 32));
	put_u32(&body, (uint32) id);
	put_text(&body, request->model_name);
	put_text(&body, request->model_sha256);
	if (many)
		put_u32(&body, (uint32) request->image_count);
	for (int i = 0; i < request->image_count; i++)
	{
		put_u32(&body, request->jpeg_lengths[i]);
		appendBinaryStringInfo(&body, request->jpegs[i], (int) request->jpeg_lengths[i]);
	}

	appendBinaryStringInfo(frame, many ? MANY_REQUEST_MAGIC : REQUEST_MAGIC, 4);
	put_u32(frame, (uint32) body.len);
	appendBinaryStringInfo(frame, body.data, body.len);
	pfree(body.data);
}

static uint32
get_u32(const char *bytes)
{
	uint32		be;

	memcpy(&be, bytes, 4);
	return pg_ntoh32(be);
}

static void
raise_protocol_error(const char *socket_path, const char *what)
{
	close_scoring_connection();
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '8')),
			 errmsg("the scoring daemon on \"%s\" sent a malformed reply: %s", socket_path, what),
			 errhint("Check that galaxy.scoring_socket names a galaxy serve --scoring-socket of the same version.")));
}

static void
decode_reply(const char *socket_path, const char *body, uint32 length, ScoringReply *reply)
{
	uint32		offset = 3;
	int			count;

	if (length < 3)
		raise_protocol_error(socket_path, "the body is shorter than its header");
	reply->status = (uint8) body[0];
	count = ((uint8) body[1] << 8) | (uint8) body[2];
	if (count > SCORING_REPLY_MAX_FIELDS)
		raise_protocol_error(socket_path, "too many fields");
	reply->field_count = count;
	for (int i = 0; i < count; i++)
	{
		uint32		field_length;

		if (length - offset < 4)
			raise_protocol_error(socket_path, "a field length is cut off");
		field_length = get_u32(body + offset);
		offset += 4;
		if (field_length > length - offset)
			raise_protocol_error(socket_path, "a field is cut off");
		reply->fields[i] = pnstrdup(body + offset, field_length);
		offset += field_length;
	}
	if (offset != length)
		raise_protocol_error(socket_path, "bytes after the last field");
}

/* Milliseconds left until deadline, at least 0. */
static long
remaining_ms(TimestampTz deadline)
{
	return TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
}

/* Waits until the socket is ready for `event` or the deadline passes, serving interrupts. */
static void
wait_for_socket(const char *socket_path, int event, TimestampTz deadline, int timeout_ms)
{
	for (;;)
	{
		long		timeout = remaining_ms(deadline);
		int			rc;

		if (timeout <= 0)
		{
			close_scoring_connection();
			ereport(ERROR,
					(errcode(MAKE_SQLSTATE('G', 'Z', '0', '0', '8')),
					 errmsg("the scoring daemon on \"%s\" did not answer within galaxy.predict_timeout (%d ms)",
							socket_path, timeout_ms),
					 errhint("Check the daemon (its log, select * from galaxy.daemons) or raise the limit with SET galaxy.predict_timeout = '30s'.")));
		}
		rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | event | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							   scoring_fd, timeout, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & event)
			return;
	}
}

/* Sends the whole frame; false when the daemon closed a reused connection before it. */
static bool
send_frame(const char *socket_path, StringInfo frame, TimestampTz deadline, int timeout_ms)
{
	int			sent = 0;

	while (sent < frame->len)
	{
		ssize_t		n = send(scoring_fd, frame->data + sent, frame->len - sent, MSG_NOSIGNAL);

		if (n > 0)
			sent += (int) n;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			wait_for_socket(socket_path, WL_SOCKET_WRITEABLE, deadline, timeout_ms);
		else if (errno == EINTR)
			continue;
		else
		{
			close_scoring_connection();
			return false;
		}
	}
	return true;
}

/*
 * Reads exactly `length` bytes into `into`; false when the connection ended first (after
 * `*received` bytes of the reply).
 */
static bool
receive_bytes(const char *socket_path, char *into, uint32 length, TimestampTz deadline, int timeout_ms,
			  uint32 *received)
{
	uint32		have = 0;

	while (have < length)
	{
		ssize_t		n = recv(scoring_fd, into + have, length - have, 0);

		if (n > 0)
		{
			have += (uint32) n;
			*received += (uint32) n;
		}
		else if (n == 0)
		{
			close_scoring_connection();
			return false;
		}
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			wait_for_socket(socket_path, WL_SOCKET_READABLE, deadline, timeout_ms);
		else if (errno == EINTR)
			continue;
		else
		{
			close_scoring_connection();
			return false;
		}
	}
	return true;
}

/* The replies of a GZN1 body: a count, then each reply body with its length. */
static void
decode_many(const char *socket_path, const char *body, uint32 length, int expected, ScoringReply *replies)
{
	uint32		offset = 4;

	if (length < 4 || get_u32(body) != (uint32) expected)
		raise_protocol_error(socket_path, "the number of replies is not the number of images");
	for (int i = 0; i < expected; i++)
	{
		uint32		part;

		if (length - offset < 4)
			raise_protocol_error(socket_path, "a reply length is cut off");
		part = get_u32(body + offset);
		offset += 4;
		if (part > length - offset)
			raise_protocol_error(socket_path, "a reply is cut off");
		decode_reply(socket_path, body + offset, part, &replies[i]);
		offset += part;
	}
	if (offset != length)
		raise_protocol_error(socket_path, "bytes after the last reply");
}

/* One attempt on the current connection; false when it ended before the whole reply. */
static bool
exchange(const char *socket_path, StringInfo frame, const ScoringRequest *request, TimestampTz deadline,
		 int timeout_ms, ScoringReply *replies, uint32 *received)
{
	bool		many = request->image_count != 1;
	char		header[8];
	uint32		length;
	char	   *body;

	if (!send_frame(socket_path, frame, deadline, timeout_ms)
		|| !receive_bytes(socket_path, header, 8, deadline, timeout_ms, received))
		return false;
	if (memcmp(header, many ? MANY_REPLY_MAGIC : REPLY_MAGIC, 4) != 0)
		raise_protocol_error(socket_path, many ? "it does not start with GZN1" : "it does not start with GZR1");
	length = get_u32(header + 4);
	if ((uint64) length > (uint64) REPLY_MAX_BYTES_PER_IMAGE * request->image_count)
		raise_protocol_error(socket_path, "it is larger than 64 KiB per image");
	body = palloc(length + 1);
	if (!receive_bytes(socket_path, body, length, deadline, timeout_ms, received))
		return false;
	if (many)
		decode_many(socket_path, body, length, request->image_count, replies);
	else
		decode_reply(socket_path, body, length, &replies[0]);
	pfree(body);
	return true;
}

void
scoring_socket_request(const char *socket_path, const char *secret, const ScoringRequest *request,
					   int timeout_ms, ScoringReply *replies)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	StringInfoData frame;
	volatile bool answered = false;
	volatile bool retry_allowed = true;

	initStringInfo(&frame);
	encode_request(request, &frame);

	/* Any error or interrupt abandons the request: close, so its late reply is never read. */
	PG_TRY();
	{
		/*
		 * A reused connection may have been closed by a daemon that restarted since the last
		 * call: when it ends before any reply byte, try once more on a fresh one (scoring stores
		 * nothing, so sending twice is harmless).
		 */
		while (!answered)
		{
			StringInfoData attempt;
			bool		reused;
			uint32		received = 0;

			initStringInfo(&attempt);
			reused = ensure_connected(socket_path, secret, deadline, timeout_ms, &attempt);
			appendBinaryStringInfo(&attempt, frame.data, frame.len);
			answered = exchange(socket_path, &attempt, request, deadline, timeout_ms, replies, &received);
			pfree(attempt.data);
			if (!answered && !(reused && received == 0 && retry_allowed))
				ereport(ERROR,
						(errcode(MAKE_SQLSTATE('G', 'Z', '0', '0', '7')),
						 errmsg("the scoring daemon on \"%s\" closed the connection before it answered", socket_path),
						 errdetail("It stopped or restarted while scoring this image."),
						 errhint("Call again once galaxy serve --scoring-socket runs; nothing was stored.")));
			retry_allowed = false;
		}
	}
	PG_CATCH();
	{
		close_scoring_connection();
		PG_RE_THROW();
	}
	PG_END_TRY();
	pfree(frame.data);
}
