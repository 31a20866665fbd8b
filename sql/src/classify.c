/*
 * galaxy.classify(jpeg bytea, model text): scores bytes with the daemon's resident model and
 * stores nothing. The model is resolved here, in the caller's snapshot and with the caller's
 * errors (galaxy.classify_model), once per statement: a statement over many rows scores them all
 * with one model. The daemon loads it by id and checks its sha256.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "storage/proc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "scoring_socket.h"

PG_MODULE_MAGIC;

/* Default of galaxy.classify_max_bytes: the daemon refuses larger requests too. */
#define DEFAULT_MAX_BYTES (32 * 1024 * 1024)

static char *scoring_socket_path = NULL;
static char *scoring_secret = NULL;
static int	classify_max_bytes = DEFAULT_MAX_BYTES;
static SPIPlanPtr model_plan = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	/*
	 * Superuser-only: the path decides which process receives the images, so a role that may
	 * only call galaxy.classify must not point it elsewhere (ALTER DATABASE/ROLE SET works).
	 */
	DefineCustomStringVariable("galaxy.scoring_socket",
							   "The scoring daemon's Unix socket path (galaxy serve --scoring-socket), or tcp://HOST:PORT (--scoring-tcp).",
							   NULL, &scoring_socket_path, "", PGC_SUSET, 0, NULL, NULL, NULL);
	/* Hidden from other roles: it is what lets a backend submit work to a TCP daemon. */
	DefineCustomStringVariable("galaxy.scoring_secret",
							   "Shared secret of a TCP scoring socket (galaxy serve --scoring-secret-file).",
							   NULL, &scoring_secret, "", PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("galaxy.classify_max_bytes",
							"Largest JPEG galaxy.classify sends to the daemon.",
							NULL, &classify_max_bytes, DEFAULT_MAX_BYTES, 4, INT_MAX,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
}

typedef struct ResolvedModel
{
	int64		id;
	char	   *name;
	char	   *sha256;
	int			timeout_ms;
} ResolvedModel;

/* The last resolution, reused by the calls of the same statement (same transaction, same start). */
typedef struct ModelCache
{
	bool		valid;
	LocalTransactionId transaction;
	TimestampTz statement_start;
	char	   *requested;		/* the model argument, or NULL for the active model */
	ResolvedModel model;
} ModelCache;

static ModelCache model_cache;

static bool
cache_matches(const char *requested)
{
	if (!model_cache.valid || model_cache.transaction != MyProc->lxid
		|| model_cache.statement_start != GetCurrentStatementStartTimestamp())
		return false;
	if (requested == NULL || model_cache.requested == NULL)
		return requested == model_cache.requested;
	return strcmp(requested, model_cache.requested) == 0;
}

static char *
top_strdup(const char *text)
{
	return text ? MemoryContextStrdup(TopMemoryContext, text) : NULL;
}

/* Runs a one-row query of a kept plan (prepared at first use). */
static HeapTuple
query_one_row(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args, const char *nulls,
			  TupleDesc *desc)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	prepared = SPI_prepare(sql, nargs, types);

		if (prepared == NULL)
			elog(ERROR, "galaxy.classify: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(prepared);
		*plan = prepared;
	}
	if (SPI_execute_plan(*plan, args, nulls, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "galaxy.classify: \"%s\" returned no row", sql);
	*desc = SPI_tuptable->tupdesc;
	return SPI_tuptable->vals[0];
}

/* galaxy.predict_timeout in milliseconds, computed by SQL again only when its text changed. */
static int
predict_timeout_ms(void)
{
	static SPIPlanPtr plan = NULL;
	static char *last_text = NULL;
	static int	last_ms = 0;
	const char *text = GetConfigOption("galaxy.predict_timeout", true, false);
	TupleDesc	desc;
	HeapTuple	row;
	bool		isnull;

	if (text == NULL)
		text = "";
	if (last_text != NULL && strcmp(text, last_text) == 0)
		return last_ms;
	row = query_one_row(&plan, "select galaxy.predict_timeout_ms()", 0, NULL, NULL, NULL, &desc);
	last_ms = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
	if (last_text)
		pfree(last_text);
	last_text = MemoryContextStrdup(TopMemoryContext, text);
	return last_ms;
}

/* The model (GZ002/3/4 errors when it cannot score) and the timeout, via SPI. */
static void
resolve_model(text *model_name, ResolvedModel *resolved)
{
	char	   *requested = model_name ? text_to_cstring(model_name) : NULL;
	Datum		arg = model_name ? PointerGetDatum(model_name) : (Datum) 0;
	char		null_flag = model_name ? ' ' : 'n';
	Oid			types[1] = {TEXTOID};
	TupleDesc	desc;
	HeapTuple	row;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "galaxy.classify: SPI_connect failed");
	if (!cache_matches(requested))
	{
		row = query_one_row(&model_plan, "select id, name, sha256 from galaxy.classify_model($1)", 1, types, &arg,
							&null_flag, &desc);
		/* Kept for the rest of the statement: the strings live in TopMemoryContext. */
		if (model_cache.valid)
		{
			pfree(model_cache.model.name);
			pfree(model_cache.model.sha256);
			if (model_cache.requested)
				pfree(model_cache.requested);
		}
		model_cache.valid = false;
		model_cache.model.id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		model_cache.model.name = top_strdup(SPI_getvalue(row, desc, 2));
		model_cache.model.sha256 = top_strdup(SPI_getvalue(row, desc, 3));
		model_cache.requested = top_strdup(requested);
		model_cache.transaction = MyProc->lxid;
		model_cache.statement_start = GetCurrentStatementStartTimestamp();
		model_cache.valid = true;
	}
	model_cache.model.timeout_ms = predict_timeout_ms();
	SPI_finish();
	*resolved = model_cache.model;
}

/* The sha256 of the bytes as hex, with PostgreSQL's own (OpenSSL-backed) sha256(). */
static char *
sha256_hex(bytea *jpeg)
{
	bytea	   *digest = DatumGetByteaPP(DirectFunctionCall1(sha256_bytea, PointerGetDatum(jpeg)));
	const unsigned char *bytes = (const unsigned char *) VARDATA_ANY(digest);
	int			length = VARSIZE_ANY_EXHDR(digest);
	char	   *hex = palloc(2 * length + 1);

	for (int i = 0; i < length; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	return hex;
}

/* Refuses what the engine would refuse anyway, before it crosses the socket. */
static void
check_jpeg(bytea *jpeg, int position)
{
	const unsigned char *bytes = (const unsigned char *) VARDATA_ANY(jpeg);
	Size		length = VARSIZE_ANY_EXHDR(jpeg);
	char		where[32] = "";

	if (position > 0)
		snprintf(where, sizeof(where), "image %d of the array: ", position);
	if (length > (Size) classify_max_bytes)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '7')),
				 errmsg("%sthe image has %zu bytes, more than galaxy.classify_max_bytes (%d)", where, length,
						classify_max_bytes),
				 errhint("Downscale it, or raise galaxy.classify_max_bytes (superuser) up to the daemon's --scoring-socket-max-bytes.")));
	if (length < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '7')),
				 errmsg_plural("%sthe bytes are not a JPEG (%zu byte, no start-of-image marker FF D8 FF)",
							   "%sthe bytes are not a JPEG (%zu bytes, no start-of-image marker FF D8 FF)",
							   length, where, length),
				 errhint("galaxy.classify takes the JPEG file's bytes, e.g. pg_read_binary_file('x.jpg') or galaxy.images.jpeg.")));
}

/* A failure the daemon reported (a corrupt image, a model it cannot load) as a GZ error. */
static void
raise_reply_error(const ScoringReply *reply, const ResolvedModel *model, int position)
{
	const char *code = reply->field_count > 0 ? reply->fields[0] : "unknown";
	const char *message = reply->field_count > 1 ? reply->fields[1] : "no message";
	const char *hint = reply->field_count > 2 ? reply->fields[2] : "";
	bool		image_fault = strstr(code, "image") != NULL || strcmp(code, "not_jpeg") == 0;
	int			sqlstate = image_fault ? MAKE_SQLSTATE('G', 'Z', '0', '1', '7') : MAKE_SQLSTATE('G', 'Z', '0', '0', '5');
	char		where[32] = "";

	if (position > 0)
		snprintf(where, sizeof(where), "image %d of the array: ", position);
	/* The daemon refused this backend (wrong secret, user not allowed): a configuration error. */
	if (strcmp(code, "peer_refused") == 0)
		sqlstate = MAKE_SQLSTATE('G', 'Z', '0', '1', '8');
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%sscoring with model \"%s\" failed (%s): %s", where, model->name, code, message),
			 hint[0] ? errhint("%s", hint) : 0));
}

static Datum
jsonb_datum(const char *text)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

static const char *
configured_socket(void)
{
	if (scoring_socket_path == NULL || scoring_socket_path[0] == '\0')
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '8')),
				 errmsg("galaxy.scoring_socket is not set: galaxy.classify does not know where the daemon listens"),
				 errhint("Start galaxy serve --scoring-socket PATH, then as a superuser ALTER DATABASE ... SET galaxy.scoring_socket = 'PATH'.")));
	return scoring_socket_path;
}

static TupleDesc
classification_desc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "galaxy.classify must return galaxy.classification");
	if (desc->natts != 10)
		elog(ERROR, "galaxy.classification has %d columns, this library expects 10: run galaxy migrate",
			 desc->natts);
	return desc;
}

/*
 * One galaxy.classification row: label, class, probabilities, model, latency_ms, model_id,
 * model_sha256, image_sha256, preprocessing, timings.
 */
static HeapTuple
classification_tuple(TupleDesc desc, const ScoringReply *reply, const ResolvedModel *model, bytea *jpeg,
					 double latency_ms, int position)
{
	Datum		values[10];
	bool		nulls[10] = {false};

	if (reply->status != 0)
		raise_reply_error(reply, model, position);
	if (reply->field_count != 7)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '8')),
				 errmsg("the scoring daemon sent %d fields, expected 7", reply->field_count),
				 errhint("Run a galaxy serve of the same version as the galaxy library.")));
	values[0] = CStringGetTextDatum(reply->fields[0]);
	values[1] = CStringGetTextDatum(reply->fields[1]);
	values[2] = jsonb_datum(reply->fields[2]);
	values[3] = CStringGetTextDatum(reply->fields[3]);
	values[4] = Float8GetDatum(latency_ms);
	values[5] = Int64GetDatum(model->id);
	values[6] = CStringGetTextDatum(reply->fields[4]);
	values[7] = CStringGetTextDatum(sha256_hex(jpeg));
	values[8] = jsonb_datum(reply->fields[5]);
	values[9] = jsonb_datum(reply->fields[6]);
	return heap_form_tuple(desc, values, nulls);
}

/* Sends the images and waits; returns the round trip in milliseconds. */
static double
score(const ResolvedModel *model, int count, const char *const *jpegs, const uint32 *lengths, ScoringReply *replies)
{
	const char *socket_path = configured_socket();
	ScoringRequest request;
	instr_time	start;
	instr_time	elapsed;

	request.model_id = model->id;
	request.model_name = model->name;
	request.model_sha256 = model->sha256;
	request.image_count = count;
	request.jpegs = jpegs;
	request.jpeg_lengths = lengths;
	INSTR_TIME_SET_CURRENT(start);
	scoring_socket_request(socket_path, scoring_secret, &request, model->timeout_ms, replies);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	return INSTR_TIME_GET_MILLISEC(elapsed);
}

PG_FUNCTION_INFO_V1(galaxy_classify);

Datum
galaxy_classify(PG_FUNCTION_ARGS)
{
	bytea	   *jpeg;
	ResolvedModel model;
	ScoringReply reply;
	TupleDesc	desc;
	const char *bytes;
	uint32		length;
	double		latency_ms;

	/* Not STRICT (a null model means the active one): a null image has no class. */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	jpeg = PG_GETARG_BYTEA_PP(0);
	check_jpeg(jpeg, 0);
	resolve_model(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), &model);
	desc = BlessTupleDesc(classification_desc(fcinfo));

	bytes = VARDATA_ANY(jpeg);
	length = (uint32) VARSIZE_ANY_EXHDR(jpeg);
	latency_ms = score(&model, 1, &bytes, &length, &reply);
	PG_RETURN_DATUM(HeapTupleGetDatum(classification_tuple(desc, &reply, &model, jpeg, latency_ms, 0)));
}

PG_FUNCTION_INFO_V1(galaxy_classify_many);

/*
 * galaxy.classify_many(jpegs bytea[], model text): one request for the whole array, scored in
 * the daemon's batches; one row per element in order (null elements give null rows).
 */
Datum
galaxy_classify_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *array;
	Datum	   *elements;
	bool	   *element_nulls;
	int			count;
	int			present = 0;
	const char **jpegs;
	uint32	   *lengths;
	ScoringReply *replies;
	ResolvedModel model;
	TupleDesc	desc;
	double		latency_ms = 0;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	desc = rsinfo->setDesc;
	if (desc->natts != 10)
		elog(ERROR, "galaxy.classification has %d columns, this library expects 10: run galaxy migrate",
			 desc->natts);
	/* A null array has no elements: no rows. */
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	array = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(array, BYTEAOID, -1, false, TYPALIGN_INT, &elements, &element_nulls, &count);
	if (count > SCORING_MAX_IMAGES)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '6')),
				 errmsg("galaxy.classify_many got %d images, at most %d fit in one request", count, SCORING_MAX_IMAGES),
				 errhint("Pass arrays of 64 to 1024 images, e.g. array_agg(jpeg) ... group by id / 64.")));
	jpegs = palloc(sizeof(char *) * Max(count, 1));
	lengths = palloc(sizeof(uint32) * Max(count, 1));
	for (int i = 0; i < count; i++)
	{
		bytea	   *jpeg;

		if (element_nulls[i])
			continue;
		jpeg = DatumGetByteaPP(elements[i]);
		elements[i] = PointerGetDatum(jpeg);
		check_jpeg(jpeg, i + 1);
		jpegs[present] = VARDATA_ANY(jpeg);
		lengths[present] = (uint32) VARSIZE_ANY_EXHDR(jpeg);
		present++;
	}
	resolve_model(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), &model);
	replies = palloc0(sizeof(ScoringReply) * Max(present, 1));
	if (present > 0)
		latency_ms = score(&model, present, jpegs, lengths, replies);

	for (int i = 0, next = 0; i < count; i++)
	{
		if (element_nulls[i])
		{
			Datum		values[10] = {0};
			bool		nulls[10];

			memset(nulls, true, sizeof(nulls));
			tuplestore_putvalues(rsinfo->setResult, desc, values, nulls);
			continue;
		}
		tuplestore_puttuple(rsinfo->setResult,
							classification_tuple(desc, &replies[next++], &model, DatumGetByteaPP(elements[i]),
												 latency_ms, i + 1));
	}
	return (Datum) 0;
}
