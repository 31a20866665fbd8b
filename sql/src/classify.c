/*
 * galaxy.classify(jpeg bytea, model text): scores bytes with the daemon's resident model and
 * stores nothing. The model is resolved here, in the caller's snapshot and with the caller's
 * errors (galaxy.classify_model); the daemon loads it by id and checks its sha256.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "scoring_socket.h"

PG_MODULE_MAGIC;

/* Default of galaxy.classify_max_bytes: the daemon refuses larger requests too. */
#define DEFAULT_MAX_BYTES (32 * 1024 * 1024)

static char *scoring_socket_path = NULL;
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
							   "Path of the scoring daemon's Unix socket (galaxy serve --scoring-socket).",
							   NULL, &scoring_socket_path, "", PGC_SUSET, 0, NULL, NULL, NULL);
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

/* The model (GZ002/3/4 errors when it cannot score) and galaxy.predict_timeout, via SPI. */
static void
resolve_model(text *model_name, ResolvedModel *resolved)
{
	Datum		arg = model_name ? PointerGetDatum(model_name) : (Datum) 0;
	char		null_flag = model_name ? ' ' : 'n';
	MemoryContext caller = CurrentMemoryContext;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "galaxy.classify: SPI_connect failed");
	if (model_plan == NULL)
	{
		Oid			types[1] = {TEXTOID};
		SPIPlanPtr	plan = SPI_prepare("select id, name, sha256, timeout_ms from galaxy.classify_model($1)",
									   1, types);

		if (plan == NULL)
			elog(ERROR, "galaxy.classify: could not prepare the model query: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		model_plan = plan;
	}
	if (SPI_execute_plan(model_plan, &arg, &null_flag, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "galaxy.classify: galaxy.classify_model returned no row");

	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spi = MemoryContextSwitchTo(caller);

		resolved->id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		resolved->name = SPI_getvalue(row, desc, 2);
		resolved->sha256 = SPI_getvalue(row, desc, 3);
		resolved->timeout_ms = DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
}

/* Refuses what the engine would refuse anyway, before it crosses the socket. */
static void
check_jpeg(bytea *jpeg)
{
	const unsigned char *bytes = (const unsigned char *) VARDATA_ANY(jpeg);
	Size		length = VARSIZE_ANY_EXHDR(jpeg);

	if (length > (Size) classify_max_bytes)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '7')),
				 errmsg("the image has %zu bytes, more than galaxy.classify_max_bytes (%d)", length,
						classify_max_bytes),
				 errhint("Downscale it, or raise galaxy.classify_max_bytes (superuser) up to the daemon's --scoring-socket-max-bytes.")));
	if (length < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '7')),
				 errmsg_plural("the bytes are not a JPEG (%zu byte, no start-of-image marker FF D8 FF)",
								"the bytes are not a JPEG (%zu bytes, no start-of-image marker FF D8 FF)",
								length, length),
				 errhint("galaxy.classify takes the JPEG file's bytes, e.g. pg_read_binary_file('x.jpg') or galaxy.images.jpeg.")));
}

/* A failure the daemon reported (a corrupt image, a model it cannot load) as a GZ error. */
static void
raise_reply_error(const ScoringReply *reply, const ResolvedModel *model)
{
	const char *code = reply->field_count > 0 ? reply->fields[0] : "unknown";
	const char *message = reply->field_count > 1 ? reply->fields[1] : "no message";
	const char *hint = reply->field_count > 2 ? reply->fields[2] : "";
	bool		image_fault = strstr(code, "image") != NULL;

	ereport(ERROR,
			(errcode(image_fault ? MAKE_SQLSTATE('G', 'Z', '0', '1', '7') : MAKE_SQLSTATE('G', 'Z', '0', '0', '5')),
			 errmsg("scoring with model \"%s\" failed (%s): %s", model->name, code, message),
			 hint[0] ? errhint("%s", hint) : 0));
}

static Datum
jsonb_datum(const char *text)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

PG_FUNCTION_INFO_V1(galaxy_classify);

Datum
galaxy_classify(PG_FUNCTION_ARGS)
{
	bytea	   *jpeg;
	ResolvedModel model;
	ScoringRequest request;
	ScoringReply reply;
	TupleDesc	desc;
	Datum		values[10];
	bool		nulls[10] = {false};
	instr_time	start;
	instr_time	elapsed;

	/* Not STRICT (a null model means the active one): a null image has no class. */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	jpeg = PG_GETARG_BYTEA_PP(0);
	check_jpeg(jpeg);
	resolve_model(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), &model);
	if (scoring_socket_path == NULL || scoring_socket_path[0] == '\0')
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '8')),
				 errmsg("galaxy.scoring_socket is not set: galaxy.classify does not know where the daemon listens"),
				 errhint("Start galaxy serve --scoring-socket PATH, then as a superuser ALTER DATABASE ... SET galaxy.scoring_socket = 'PATH'.")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "galaxy.classify must return galaxy.classification");
	desc = BlessTupleDesc(desc);
	if (desc->natts != 10)
		elog(ERROR, "galaxy.classification has %d columns, this library expects 10: run galaxy migrate",
			 desc->natts);

	request.model_id = model.id;
	request.model_name = model.name;
	request.model_sha256 = model.sha256;
	request.jpeg = VARDATA_ANY(jpeg);
	request.jpeg_length = (uint32) VARSIZE_ANY_EXHDR(jpeg);
	INSTR_TIME_SET_CURRENT(start);
	scoring_socket_request(scoring_socket_path, &request, model.timeout_ms, &reply);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);

	if (reply.status != 0)
		raise_reply_error(&reply, &model);
	if (reply.field_count != 8)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('G', 'Z', '0', '1', '8')),
				 errmsg("the scoring daemon sent %d fields, expected 8", reply.field_count),
				 errhint("Run a galaxy serve of the same version as the galaxy library.")));

	/* label, class, probabilities, model, latency_ms, model_id, model_sha256, image_sha256,
	 * preprocessing, timings */
	values[0] = CStringGetTextDatum(reply.fields[0]);
	values[1] = CStringGetTextDatum(reply.fields[1]);
	values[2] = jsonb_datum(reply.fields[2]);
	values[3] = CStringGetTextDatum(reply.fields[3]);
	values[4] = Float8GetDatum(INSTR_TIME_GET_MILLISEC(elapsed));
	values[5] = Int64GetDatum(model.id);
	values[6] = CStringGetTextDatum(reply.fields[4]);
	values[7] = CStringGetTextDatum(reply.fields[5]);
	values[8] = jsonb_datum(reply.fields[6]);
	values[9] = jsonb_datum(reply.fields[7]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
