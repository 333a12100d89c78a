/*
 * pay-ingest - payment gateway callbacks recorded exactly once.
 *
 * Each payload is verified (its signature, against the webhook secret or
 * PayPal's certificate) before a byte of it is believed, parsed into
 * money facts, and recorded in one BEGIN IMMEDIATE transaction by the
 * store (paystore.c), which answers recorded, duplicate or conflict per
 * fact. The same program is the webhook endpoint under a web server
 * (--cgi): the request from the CGI environment, the answer as an HTTP
 * status and a one-line JSON body; or a persistent one (--scgi), which
 * answers each request the same way but records the requests that are
 * complete at one moment in one transaction (group commit).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "daigou.h"

static const char usage[] =
	"usage: pay-ingest [-hqv] [--db PATH] [--json] --gateway "
	"stripe|paypal|generic\n"
	"                  [--signature VALUE] [--secret-file FILE] "
	"[--no-verify]\n"
	"                  [--tolerance SECONDS] [--paypal-cert FILE]\n"
	"                  [--paypal-webhook-id ID] [--paypal-header "
	"NAME=VALUE ...]\n"
	"                  [--max-body BYTES] [--strict] [FILE ...]\n"
	"       pay-ingest [-hqv] [--db PATH] [--json] --gateway NAME "
	"--jsonl --no-verify\n"
	"                  [--batch N] [--threads N] [--strict] [FILE ...]\n"
	"       pay-ingest --cgi --gateway NAME [--db PATH] [--secret-file "
	"FILE]\n"
	"                  [--no-verify] [--tolerance SECONDS] "
	"[--paypal-cert FILE]\n"
	"                  [--paypal-webhook-id ID] [--max-body BYTES]\n"
	"       pay-ingest --scgi [--listen ADDR] --gateway NAME [--db PATH]\n"
	"                  [--secret-file FILE] [--no-verify] [--tolerance "
	"SECONDS]\n"
	"                  [--paypal-cert FILE] [--paypal-webhook-id ID]\n"
	"                  [--max-body BYTES] [--batch N] [--max-conns N]\n"
	"                  [--client-timeout SECONDS]\n"
	"       pay-ingest --version\n";

#define DEFAULT_MAX_BODY  (1024 * 1024)
#define MAX_MAX_BODY	  (1L << 30)
#define DEFAULT_TOLERANCE 300
#define DEFAULT_BATCH	  500
#define MAX_CERT	  (64 * 1024)
#define RETRY_AFTER_S	  5
#define SCGI_BATCH	  64
#define SCGI_MAX_CONNS	  256
#define SCGI_MAX_HEAD	  (64 * 1024)
#define SCGI_TIMEOUT_S	  10

struct options {
	struct dg_common common;
	const char *gateway, *signature, *secret_file, *paypal_cert;
	const char *webhook_id;
	struct dg_paypal_headers pp; /* --paypal-header */
	bool no_verify, jsonl, strict, cgi, scgi;
	const char *listen; /* --listen */
	long tolerance, max_body, batch, threads, max_conns, client_timeout;
	bool scgi_only; /* --max-conns or --client-timeout given */
};

enum {
	OPT_GATEWAY = DG_OPT_TOOL_BASE,
	OPT_SIGNATURE,
	OPT_SECRET_FILE,
	OPT_NO_VERIFY,
	OPT_TOLERANCE,
	OPT_PAYPAL_CERT,
	OPT_PAYPAL_WEBHOOK_ID,
	OPT_PAYPAL_HEADER,
	OPT_MAX_BODY,
	OPT_JSONL,
	OPT_BATCH,
	OPT_STRICT,
	OPT_CGI,
	OPT_THREADS,
	OPT_SCGI,
	OPT_LISTEN,
	OPT_MAX_CONNS,
	OPT_CLIENT_TIMEOUT,
};

static const struct option longopts[] = {
	DG_COMMON_LONGOPTS,
	{"gateway", 1, NULL, OPT_GATEWAY},
	{"signature", 1, NULL, OPT_SIGNATURE},
	{"secret-file", 1, NULL, OPT_SECRET_FILE},
	{"no-verify", 0, NULL, OPT_NO_VERIFY},
	{"tolerance", 1, NULL, OPT_TOLERANCE},
	{"paypal-cert", 1, NULL, OPT_PAYPAL_CERT},
	{"paypal-webhook-id", 1, NULL, OPT_PAYPAL_WEBHOOK_ID},
	{"paypal-header", 1, NULL, OPT_PAYPAL_HEADER},
	{"max-body", 1, NULL, OPT_MAX_BODY},
	{"jsonl", 0, NULL, OPT_JSONL},
	{"batch", 1, NULL, OPT_BATCH},
	{"strict", 0, NULL, OPT_STRICT},
	{"cgi", 0, NULL, OPT_CGI},
	{"threads", 1, NULL, OPT_THREADS},
	{"scgi", 0, NULL, OPT_SCGI},
	{"listen", 1, NULL, OPT_LISTEN},
	{"max-conns", 1, NULL, OPT_MAX_CONNS},
	{"client-timeout", 1, NULL, OPT_CLIENT_TIMEOUT},
	{NULL, 0, NULL, 0},
};

/* The PayPal transmission headers, by name (case does not matter). */
static const char **paypal_slot(struct dg_paypal_headers *h, const char *name,
				size_t len)
{
	static const char *const names[] = {
		"PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
		"PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL",
		"PAYPAL-AUTH-ALGO"};
	const char **slots[] = {&h->transmission_id, &h->transmission_time,
				&h->transmission_sig, &h->cert_url,
				&h->auth_algo};
	size_t i;

	for (i = 0; i < 5; i++)
		if (strlen(names[i]) == len &&
		    !strncasecmp(names[i], name, len))
			return slots[i];
	return NULL;
}

static void paypal_header_arg(struct options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char **slot =
		eq ? paypal_slot(&o->pp, arg, (size_t)(eq - arg)) : NULL;

	if (!slot)
		dg_usage_error(usage,
			       "--paypal-header needs NAME=VALUE with NAME "
			       "one of PAYPAL-TRANSMISSION-ID, "
			       "PAYPAL-TRANSMISSION-TIME, "
			       "PAYPAL-TRANSMISSION-SIG, PAYPAL-CERT-URL, "
			       "PAYPAL-AUTH-ALGO, not %s",
			       dg_quoted(arg));
	*slot = eq + 1;
}

/* --scgi takes what --cgi takes, and its own options only with it. */
static void scgi_options(int argc, struct options *o)
{
	if (o->cgi && o->scgi)
		dg_usage_error(usage, "--cgi and --scgi are two endpoints: "
				      "give one");
	if (!o->scgi && (o->listen || o->scgi_only))
		dg_usage_error(usage, "--listen, --max-conns and "
				      "--client-timeout go with --scgi");
	if (o->scgi &&
	    (o->jsonl || o->signature || o->pp.transmission_id ||
	     o->pp.transmission_time || o->pp.transmission_sig ||
	     o->pp.cert_url || o->pp.auth_algo || o->strict || optind != argc))
		dg_usage_error(usage, "--scgi reads each request from its "
				      "connection: no FILE, --jsonl, "
				      "--signature, --paypal-header or "
				      "--strict");
	if (o->scgi && o->common.json)
		dg_usage_error(usage, "--scgi always answers in JSON: no "
				      "--json");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	o->tolerance = DEFAULT_TOLERANCE;
	o->max_body = DEFAULT_MAX_BODY;
	o->batch = 0;
	o->max_conns = SCGI_MAX_CONNS;
	o->client_timeout = SCGI_TIMEOUT_S;
	while ((c = dg_getopt(argc, argv, "hqv", longopts, usage)) != -1) {
		if (dg_common_option(&o->common, c, optarg, usage))
			continue;
		switch (c) {
		case OPT_GATEWAY:
			if (!dg_pay_gateway_known(optarg))
				dg_usage_error(usage,
					       "--gateway is stripe, paypal "
					       "or generic, not %s",
					       dg_quoted(optarg));
			o->gateway = optarg;
			break;
		case OPT_SIGNATURE:
			o->signature = optarg;
			break;
		case OPT_SECRET_FILE:
			o->secret_file = optarg;
			break;
		case OPT_NO_VERIFY:
			o->no_verify = true;
			break;
		case OPT_TOLERANCE:
			o->tolerance = dg_number_arg(usage, "--tolerance",
						     optarg, 1, 86400);
			break;
		case OPT_PAYPAL_CERT:
			o->paypal_cert = optarg;
			break;
		case OPT_PAYPAL_WEBHOOK_ID:
			o->webhook_id = optarg;
			break;
		case OPT_PAYPAL_HEADER:
			paypal_header_arg(o, optarg);
			break;
		case OPT_MAX_BODY:
			o->max_body = dg_number_arg(usage, "--max-body", optarg,
						    1, MAX_MAX_BODY);
			break;
		case OPT_JSONL:
			o->jsonl = true;
			break;
		case OPT_BATCH:
			o->batch = dg_number_arg(usage, "--batch", optarg, 1,
						 100000);
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_CGI:
			o->cgi = true;
			break;
		case OPT_THREADS:
			o->threads = dg_number_arg(usage, "--threads", optarg,
						   1, 64);
			break;
		case OPT_SCGI:
			o->scgi = true;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_MAX_CONNS:
			o->max_conns = dg_number_arg(usage, "--max-conns",
						     optarg, 1, 4096);
			o->scgi_only = true;
			break;
		case OPT_CLIENT_TIMEOUT:
			o->client_timeout = dg_number_arg(
				usage, "--client-timeout", optarg, 1, 3600);
			o->scgi_only = true;
			break;
		default:
			dg_usage_error(usage, "unknown option (see --help)");
		}
	}
	if (!o->gateway)
		dg_usage_error(usage, "--gateway is required: stripe, paypal "
				      "or generic");
	if (o->jsonl && !o->no_verify)
		dg_usage_error(usage, "--jsonl needs --no-verify: exported "
				      "events carry no signature");
	scgi_options(argc, o);
	if (o->batch && !o->jsonl && !o->scgi)
		dg_usage_error(usage, "--batch goes with --jsonl or --scgi");
	if (!o->batch)
		o->batch = o->scgi ? SCGI_BATCH : DEFAULT_BATCH;
	if (o->threads && !o->jsonl)
		dg_usage_error(usage, "--threads goes with --jsonl");
	if (!o->threads)
		o->threads = (long)dg_linepipe_cores();
	if (o->cgi &&
	    (o->jsonl || o->signature || o->pp.transmission_id ||
	     o->pp.transmission_time || o->pp.transmission_sig ||
	     o->pp.cert_url || o->pp.auth_algo || o->strict || optind != argc))
		dg_usage_error(usage, "--cgi reads the request from the CGI "
				      "environment: no FILE, --jsonl, "
				      "--signature, --paypal-header or "
				      "--strict");
	if (o->cgi && o->common.json)
		dg_usage_error(usage, "--cgi always answers in JSON: no "
				      "--json");
	if (!o->no_verify && !o->jsonl && !o->cgi && argc - optind > 1 &&
	    (o->signature || o->pp.transmission_sig))
		dg_usage_error(usage, "a signature belongs to one payload: "
				      "give one FILE");
	if (o->no_verify &&
	    (o->signature || o->secret_file || o->paypal_cert || o->webhook_id))
		dg_usage_error(usage, "--no-verify takes no --signature, "
				      "--secret-file, --paypal-cert or "
				      "--paypal-webhook-id");
	if (!o->no_verify && !strcmp(o->gateway, "paypal") && !o->webhook_id)
		dg_usage_error(usage, "--gateway paypal needs "
				      "--paypal-webhook-id to verify, or "
				      "--no-verify");
}

/* ------------------------------------------------------------ running */

static const char *const out_cols[] = {
	"gateway", "gateway_txn_id", "kind",   "order_id",
	"amount",  "currency",	     "result", "reason",
};
#define NCOLS (sizeof(out_cols) / sizeof(out_cols[0]))

struct ctx {
	const struct options *o;
	sqlite3 *db;
	struct dg_paystore *store;
	unsigned char *secret;
	size_t secret_len;
	char *cert; /* --paypal-cert */
	size_t cert_len;
	dg_time now_t;
	char now[DG_RFC3339_SIZE];
	struct dg_out *out;
	unsigned long recorded, duplicate, conflict, rejected, ignored;
	bool batched; /* --scgi: a rejection's event goes in the batch */
};

/* What one payload gave. */
struct payload {
	struct dg_pay_event ev;
	struct dg_pay_outcome *outs; /* one per fact, when recorded */
	enum dg_pay_result result;   /* without facts: rejected, ignored */
	char *error;		     /* malformed or rejected: why */
	int status;		     /* exit status */
	int http;		     /* the CGI answer */
	char *where;		     /* for messages: the file, FILE:LINE */
	char sha[65];
	char *reject_event; /* batched: the payment_rejected detail */
};

/* The outcomes of a payload whose transaction was rolled back: no
 * answer about its facts. */
static void outs_free(struct payload *p)
{
	size_t i;

	if (p->outs)
		for (i = 0; i < p->ev.nfacts; i++)
			free(p->outs[i].reason);
	free(p->outs);
	p->outs = NULL;
}

static void payload_clear(struct payload *p)
{
	outs_free(p);
	dg_pay_event_free(&p->ev);
	free(p->error);
	free(p->where);
	free(p->reject_event);
	memset(p, 0, sizeof(*p));
}

static int tick(struct ctx *c)
{
	int ret = dg_now(&c->now_t);

	if (!ret)
		dg_format_rfc3339(c->now_t, c->now);
	return ret;
}

/* The certificate PayPal signed with: --paypal-cert, the cache, or
 * fetched from a PayPal https URL and cached. 0, or a status with *why. */
static int paypal_cert(struct ctx *c, const char *url, char **pem, size_t *len,
		       char **why)
{
	struct dg_http_opts ho;
	int ret;

	*pem = NULL;
	if (c->cert) {
		*pem = dg_xstrndup(c->cert, c->cert_len);
		*len = c->cert_len;
		return 0;
	}
	if (!url) {
		*why = dg_xstrdup("no PAYPAL-CERT-URL header");
		return DG_EXIT_DATAERR;
	}
	if (!dg_paypal_cert_url_ok(url)) {
		*why = dg_xasprintf("certificate URL %s refused: not https on "
				    "a PayPal host",
				    dg_quoted(url));
		return DG_EXIT_DATAERR;
	}
	ret = dg_paypal_cert_get(c->db, url, pem, len);
	if (ret != DG_EXIT_UNAVAILABLE)
		return ret;
	dg_http_opts_init(&ho);
	ho.max_size = MAX_CERT;
	if ((ret = dg_paypal_cert_fetch(url, &ho, pem, len, why)))
		return ret;
	if ((ret = dg_db_begin(c->db)))
		return ret;
	if ((ret = dg_paypal_cert_put(c->db, url, *pem, *len, c->now)) ||
	    (ret = dg_db_commit(c->db)))
		dg_db_rollback(c->db);
	return ret;
}

/* The signature check of one payload: DG_SIG_OK, or another with *why;
 * *status is set when the check itself failed (75: fetch, 74: db). */
static enum dg_sig verify(struct ctx *c, const struct dg_paypal_headers *pp,
			  const char *sig, const char *body, size_t len,
			  char **why, int *status)
{
	const char *g = c->o->gateway;
	enum dg_sig r;
	char *pem = NULL;
	size_t pem_len = 0;
	int ret;

	*why = NULL;
	*status = 0;
	if (!strcmp(g, "stripe"))
		return dg_sig_stripe(sig, c->secret, c->secret_len, body, len,
				     c->now_t, c->o->tolerance, why);
	if (!strcmp(g, "generic"))
		return dg_sig_generic(sig, c->secret, c->secret_len, body, len,
				      why);
	if (!pp->transmission_sig) {
		*why = dg_xstrdup("no PAYPAL-TRANSMISSION-SIG header");
		return DG_SIG_MISSING;
	}
	ret = paypal_cert(c, pp->cert_url, &pem, &pem_len, why);
	if (ret == DG_EXIT_DATAERR)
		return DG_SIG_MALFORMED;
	if (ret) {
		*status = ret;
		return DG_SIG_ERROR;
	}
	r = dg_sig_paypal(pp, c->o->webhook_id, pem, pem_len, body, len,
			  c->now_t, c->o->tolerance, why);
	free(pem);
	return r;
}

/* The payment_rejected event of a rejected payload, in the open
 * transaction. */
static int reject_event(struct ctx *c, const char *detail)
{
	return dg_paystore_event(c->store, c->now, "payment_rejected",
				 c->o->gateway, detail);
}

/* A rejected payload: a payment_rejected event, nothing else. */
static int reject(struct ctx *c, const char *name, const char *why)
{
	char *detail = dg_xasprintf("%s %s: %s", c->o->gateway, name, why);
	int ret;

	if (!(ret = dg_db_begin(c->db))) {
		ret = reject_event(c, detail);
		ret = ret ? ret : dg_db_commit(c->db);
		if (ret)
			dg_db_rollback(c->db);
	}
	free(detail);
	return ret;
}

/* The HTTP answer for a database failure. */
static int db_http(int status)
{
	return status == DG_EXIT_TEMPFAIL ? 503 : 500;
}

/* Record the facts of p->ev in the open transaction. 0, or 74/75/70
 * (roll back). */
static int record_facts(struct ctx *c, struct payload *p)
{
	size_t i;
	int ret;

	p->outs = dg_xcalloc(p->ev.nfacts ? p->ev.nfacts : 1, sizeof(*p->outs));
	p->http = 200;
	for (i = 0; i < p->ev.nfacts; i++) {
		ret = dg_paystore_record(c->store, &p->ev, &p->ev.facts[i],
					 p->sha, c->now, &p->outs[i]);
		if (ret)
			return ret;
		p->status = dg_exit_worst(p->status, p->outs[i].status);
		if (p->outs[i].result == DG_PAY_CONFLICT)
			p->http = 409;
	}
	return 0;
}

/* A payload whose facts the database could not take: no answer about
 * them (the gateway retries). */
static void db_failed(struct payload *p, int ret)
{
	p->status = ret;
	p->http = db_http(ret);
	free(p->error);
	p->error = dg_xstrdup("database unavailable");
	outs_free(p);
}

/* One raw payload verified and parsed: true when its facts are to be
 * recorded, false when it is answered already (rejected, malformed,
 * ignored, or the check could not be made). */
static bool prepare(struct ctx *c, const char *name, const char *body,
		    size_t len, const char *sig,
		    const struct dg_paypal_headers *pp, struct payload *p)
{
	enum dg_sig r;
	char *err = NULL;
	int ret;

	dg_sha256_hex(body, len, p->sha);
	if (!c->o->no_verify) {
		r = verify(c, pp, sig, body, len, &err, &ret);
		if (r != DG_SIG_OK && ret) {
			dg_error("%s: cannot verify the signature: %s",
				 dg_escaped(name, DG_QUOTE_PATH_MAX),
				 err ? err : dg_sig_name(r));
			p->status = ret;
			p->http = ret == DG_EXIT_TEMPFAIL ? 503 : 500;
			p->error = err;
			return false;
		}
		if (r != DG_SIG_OK) {
			p->error =
				dg_xasprintf("signature %s: %s", dg_sig_name(r),
					     err ? err : "refused");
			free(err);
			dg_error("%s: %s", dg_escaped(name, DG_QUOTE_PATH_MAX),
				 p->error);
			p->result = DG_PAY_REJECTED;
			p->status = DG_EXIT_DATAERR;
			p->http = 401;
			if (c->batched) { /* its event with the batch's facts */
				p->reject_event =
					dg_xasprintf("%s %s: %s", c->o->gateway,
						     name, p->error);
				return false;
			}
			if ((ret = reject(c, name, p->error))) {
				p->status = ret;
				p->http = db_http(ret);
			}
			return false;
		}
	}
	if (dg_pay_parse(c->o->gateway, body, len, &p->ev, &err)) {
		dg_error("%s: %s", dg_escaped(name, DG_QUOTE_PATH_MAX), err);
		p->error = err;
		p->result = DG_PAY_REJECTED;
		p->status = DG_EXIT_DATAERR;
		p->http = 400;
		return false;
	}
	if (p->ev.ignored) {
		p->result = DG_PAY_IGNORED;
		p->http = 200;
		return false;
	}
	return true;
}

/* One raw payload, verified, parsed and recorded in its own transaction. */
static void ingest(struct ctx *c, const char *name, const char *body,
		   size_t len, const char *sig,
		   const struct dg_paypal_headers *pp, struct payload *p)
{
	int ret;

	if (!prepare(c, name, body, len, sig, pp, p))
		return;
	if ((ret = dg_db_begin(c->db)) || (ret = record_facts(c, p)) ||
	    (ret = dg_db_commit(c->db))) {
		dg_db_rollback(c->db);
		db_failed(p, ret);
	}
}

static void fact_values(const struct ctx *c, const struct dg_pay_fact *f,
			const char *result, const char *reason,
			char amount[DG_AMOUNT_SIZE], const char **v)
{
	int e = dg_currency_exponent(f->currency);

	dg_amount_format(f->amount, e < 0 ? 0 : e, amount);
	v[0] = c->o->gateway;
	v[1] = f->txn_id;
	v[2] = dg_pay_kind_name(f->kind);
	v[3] = f->order_id;
	v[4] = amount;
	v[5] = f->currency;
	v[6] = result;
	v[7] = reason;
}

/* The rows of one payload; counts it. 0 or 74/65 (output). */
static int write_rows(struct ctx *c, const struct payload *p)
{
	char amount[DG_AMOUNT_SIZE];
	const char *v[NCOLS] = {0};
	size_t i;
	int ret;

	if (!p->outs) {
		if (p->result == DG_PAY_IGNORED)
			c->ignored++;
		else if (p->result == DG_PAY_REJECTED)
			c->rejected++;
		else
			return 0; /* a database failure: no answer */
		v[0] = c->o->gateway;
		v[6] = dg_pay_result_name(p->result);
		v[7] = p->result == DG_PAY_IGNORED ? p->ev.ignored : p->error;
		return dg_out_row(c->out, v);
	}
	for (i = 0; i < p->ev.nfacts; i++) {
		const struct dg_pay_outcome *r = &p->outs[i];

		/* the flag or the conflict said where it came from */
		if (r->status == DG_EXIT_DATAERR)
			dg_error("%s: %s %s: conflict: %s",
				 dg_escaped(p->where, DG_QUOTE_PATH_MAX),
				 c->o->gateway,
				 dg_quoted(p->ev.facts[i].txn_id), r->reason);
		else if (r->status == DG_EXIT_FINDING)
			dg_warn("%s: %s %s: %s",
				dg_escaped(p->where, DG_QUOTE_PATH_MAX),
				c->o->gateway, dg_quoted(p->ev.facts[i].txn_id),
				r->reason);
		if (r->result == DG_PAY_RECORDED)
			c->recorded++;
		else if (r->result == DG_PAY_DUPLICATE)
			c->duplicate++;
		else
			c->conflict++;
		fact_values(c, &p->ev.facts[i], dg_pay_result_name(r->result),
			    r->reason, amount, v);
		if ((ret = dg_out_row(c->out, v)))
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------- files */

/* A payload file read whole, refused past the cap before it is read
 * (a regular file by its size, a pipe once cap + 1 bytes came). */
static int read_body(const char *path, size_t cap, char **body, size_t *len)
{
	bool in = !strcmp(path, "-");
	const char *shown = in ? "<stdin>" : path;
	FILE *fp = in ? stdin : fopen(path, "rb");
	size_t size = 0, n;
	struct stat sb;
	char *buf = NULL;
	int ret = 0;

	*body = NULL;
	*len = 0;
	if (!fp) {
		dg_error("cannot open %s: %s", dg_quoted_path(path),
			 strerror(errno));
		return DG_EXIT_NOINPUT;
	}
	if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uintmax_t)sb.st_size > cap) {
		dg_error("%s: %jd bytes, over the cap of %zu bytes "
			 "(--max-body)",
			 dg_quoted_path(shown), (intmax_t)sb.st_size, cap);
		ret = DG_EXIT_DATAERR;
		goto out;
	}
	buf = dg_xmalloc(cap + 2);
	while (size <= cap &&
	       (n = fread(buf + size, 1, cap + 1 - size, fp)) > 0)
		size += n;
	if (ferror(fp)) {
		dg_error("cannot read %s: %s", dg_quoted_path(shown),
			 strerror(errno));
		ret = DG_EXIT_IOERR;
	} else if (size > cap) {
		dg_error("%s: over the cap of %zu bytes (--max-body)",
			 dg_quoted_path(shown), cap);
		ret = DG_EXIT_DATAERR;
	}
out:
	if (!in)
		fclose(fp);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[size] = '\0';
	*body = buf;
	*len = size;
	return 0;
}

static int run_files(struct ctx *c, int nfiles, char **files)
{
	struct payload p;
	int worst = 0, ret, i;
	char *body;
	size_t len;

	for (i = 0; i < (nfiles ? nfiles : 1); i++) {
		const char *path = nfiles ? files[i] : "-";

		memset(&p, 0, sizeof(p));
		p.where = dg_xstrdup(strcmp(path, "-") ? path : "<stdin>");
		if ((ret = tick(c))) {
			free(p.where);
			return dg_exit_worst(worst, ret);
		}
		ret = read_body(path, (size_t)c->o->max_body, &body, &len);
		if (!ret) {
			ingest(c, p.where, body, len, c->o->signature,
			       &c->o->pp, &p);
			free(body);
			ret = dg_exit_worst(p.status, write_rows(c, &p));
		}
		payload_clear(&p);
		worst = dg_exit_worst(worst, ret);
		if (ret == DG_EXIT_IOERR || ret == DG_EXIT_TEMPFAIL ||
		    (ret && ret != DG_EXIT_FINDING && c->o->strict))
			break;
	}
	return worst;
}

/* ------------------------------------------------------------- --jsonl */

/*
 * A replay: the lines are read and parsed by the threads of a line pipe
 * (linepipe.c), --threads of them, and come back to this thread in input
 * order, to be stored in batches by it alone. Parsing touches neither
 * the database nor the output, so the rows, the messages and the
 * transactions are those of a loop over the lines.
 */
struct batch {
	struct ctx *c;
	struct payload *p;
	size_t n, cap;
};

/* A parse thread's state. */
struct parser {
	const char *gateway;
	struct dg_json_arena *arena; /* each line's document */
};

static void *parse_start(void *arg)
{
	const struct ctx *c = arg;
	struct parser *ps = dg_xcalloc(1, sizeof(*ps));

	ps->gateway = c->o->gateway;
	ps->arena = dg_json_arena_new();
	return ps;
}

static void parse_finish(void *state)
{
	struct parser *ps = state;

	dg_json_arena_free(ps->arena);
	free(ps);
	dg_quote_release();
}

/* One line, in a parse thread: parsed like a payload file, its digest
 * that of the line as exported. */
static void *parse_line(void *state, const struct dg_lp_item *it,
			const char *text, size_t len)
{
	struct parser *ps = state;
	struct payload *p = dg_xcalloc(1, sizeof(*p));
	char *err = NULL;

	p->where = dg_xasprintf(
		"%s:%lu", dg_escaped(it->name, DG_QUOTE_PATH_MAX), it->lineno);
	dg_sha256_hex(text, len, p->sha);
	if (dg_pay_parse_arena(ps->arena, ps->gateway, text, len, &p->ev,
			       &err)) {
		p->error = dg_xasprintf("%s: %s", p->where, err);
		free(err);
		p->result = DG_PAY_REJECTED;
		p->status = DG_EXIT_DATAERR;
	} else if (p->ev.ignored) {
		p->result = DG_PAY_IGNORED;
	}
	return p;
}

static void parse_drop(void *arg, void *result)
{
	(void)arg;
	payload_clear(result);
	free(result);
}

/* A line that cannot be taken (over the cap): a rejected row in turn. */
static void bad_line(struct batch *b, char *msg)
{
	struct payload *p = &b->p[b->n++];

	memset(p, 0, sizeof(*p));
	p->result = DG_PAY_REJECTED;
	p->status = DG_EXIT_DATAERR;
	p->error = msg;
}

static int run_batch(struct batch *b, bool *stop)
{
	struct ctx *c = b->c;
	size_t i, k, upto;
	int worst = 0, ret = 0;

	if (!b->n)
		return 0;
	upto = b->n;
	if ((ret = dg_db_begin(c->db)))
		goto fail;
	for (i = 0; i < b->n; i++) {
		struct payload *p = &b->p[i];

		if (p->error || p->ev.ignored)
			goto next;
		if ((ret = record_facts(c, p))) {
			dg_db_rollback(c->db);
			goto fail;
		}
	next:
		if (p->status && p->status != DG_EXIT_FINDING && c->o->strict) {
			*stop = true;
			upto = i + 1;
			break;
		}
	}
	if ((ret = dg_db_commit(c->db)))
		goto fail;
	for (k = 0; k < upto; k++) {
		struct payload *p = &b->p[k];

		if (p->error)
			dg_error("%s", p->error);
		worst = dg_exit_worst(worst, p->status);
		/* a line's message went to stderr; its row says it short */
		if (p->error && p->result == DG_PAY_REJECTED) {
			char *at = strstr(p->error, ": ");

			if (at) {
				char *s = dg_xstrdup(at + 2);

				free(p->error);
				p->error = s;
			}
		}
		if ((ret = write_rows(c, p))) {
			*stop = true;
			worst = dg_exit_worst(worst, ret);
			break;
		}
	}
	goto out;
fail:
	*stop = true;
	worst = ret;
out:
	for (k = 0; k < b->n; k++)
		payload_clear(&b->p[k]);
	b->n = 0;
	if (!*stop && (ret = tick(c))) {
		*stop = true;
		worst = dg_exit_worst(worst, ret);
	}
	return worst;
}

/* The pending batch of a replay that stops without storing it. */
static void drop_batch(struct batch *b)
{
	size_t k;

	for (k = 0; k < b->n; k++)
		payload_clear(&b->p[k]);
	b->n = 0;
}

/* One item of the pipe, in turn; 0 or the worst status. */
static int replay_item(struct batch *b, struct dg_lp_item *it, bool *stop)
{
	const struct options *o = b->c->o;
	struct payload *p;
	int worst = 0;

	switch (it->kind) {
	case DG_LP_FILE: /* the rows before a file's message come first */
		worst = run_batch(b, stop);
		if (!*stop && it->err) {
			dg_error("cannot open %s: %s", dg_quoted_path(it->path),
				 strerror(it->err));
			*stop = o->strict;
			worst = dg_exit_worst(worst, DG_EXIT_NOINPUT);
		}
		return worst;
	case DG_LP_READ_ERROR:
		dg_error("cannot read %s: %s", dg_quoted_path(it->name),
			 strerror(it->err));
		drop_batch(b);
		*stop = true;
		return DG_EXIT_IOERR;
	case DG_LP_END:
		*stop = true;
		return run_batch(b, stop);
	case DG_LP_LONG:
		bad_line(b,
			 dg_xasprintf("%s:%lu: line over the cap of %zu bytes "
				      "(--max-body)",
				      dg_escaped(it->name, DG_QUOTE_PATH_MAX),
				      it->lineno, (size_t)o->max_body));
		break;
	case DG_LP_LINE:
		p = it->result;
		b->p[b->n++] = *p;
		free(p);
		break;
	}
	p = &b->p[b->n - 1];
	if (b->n == b->cap ||
	    (o->strict && p->status && p->status != DG_EXIT_FINDING))
		worst = run_batch(b, stop);
	return worst;
}

static int run_jsonl(struct ctx *c, int nfiles, char **files)
{
	static char stdin_name[] = "-";
	char *only_stdin[] = {stdin_name};
	struct batch b = {.c = c, .cap = (size_t)c->o->batch};
	struct dg_lp_ops ops = {.start = parse_start,
				.work = parse_line,
				.finish = parse_finish,
				.drop = parse_drop,
				.arg = c};
	struct dg_linepipe *lp;
	struct dg_lp_item it;
	bool stop = false;
	int worst = 0;

	b.p = dg_xcalloc(b.cap, sizeof(*b.p));
	lp = dg_linepipe_open(nfiles ? files : only_stdin, nfiles ? nfiles : 1,
			      (size_t)c->o->max_body, (unsigned)c->o->threads,
			      &ops);
	while (!stop) {
		dg_linepipe_next(lp, &it);
		worst = dg_exit_worst(worst, replay_item(&b, &it, &stop));
	}
	dg_linepipe_close(lp);
	drop_batch(&b);
	free(b.p);
	return worst;
}

/* --------------------------------------------------------------- --cgi */

/* The one-line JSON answer of a payload. */
static char *cgi_body(const struct ctx *c, const struct payload *p)
{
	json_t *o = json_object(), *facts = json_array();
	enum dg_pay_result worst = DG_PAY_DUPLICATE;
	char amount[DG_AMOUNT_SIZE];
	const char *result;
	size_t i;
	char *s;

	json_object_set_new(o, "status", json_integer(p->http));
	if (p->outs) {
		for (i = 0; i < p->ev.nfacts; i++) {
			const struct dg_pay_fact *f = &p->ev.facts[i];
			const struct dg_pay_outcome *r = &p->outs[i];
			const char *v[NCOLS];
			json_t *row = json_object();
			size_t k;

			fact_values(c, f, dg_pay_result_name(r->result),
				    r->reason, amount, v);
			for (k = 0; k < NCOLS; k++)
				json_object_set_new(row, out_cols[k],
						    v[k] ? json_string(v[k])
							 : json_null());
			json_array_append_new(facts, row);
			if (r->result == DG_PAY_CONFLICT)
				worst = DG_PAY_CONFLICT;
			else if (r->result == DG_PAY_RECORDED &&
				 worst != DG_PAY_CONFLICT)
				worst = DG_PAY_RECORDED;
		}
		result = dg_pay_result_name(worst);
		json_object_set_new(o, "result", json_string(result));
		json_object_set_new(o, "facts", facts);
	} else {
		json_decref(facts);
		/* a database or server failure is no answer about the
		 * payload: the gateway retries */
		result = p->http >= 500 ? "error"
					: dg_pay_result_name(p->result);
		json_object_set_new(o, "result", json_string(result));
		json_object_set_new(o, "reason",
				    json_string(p->result == DG_PAY_IGNORED
							? p->ev.ignored
						: p->error ? p->error
							   : ""));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!s)
		dg_die(DG_EXIT_SOFTWARE, "out of memory");
	return s;
}

/* The answer (Status line, headers, the JSON line) to out. */
static int cgi_answer(FILE *out, int http, const char *json_line)
{
	if (dg_cgi_reply(out, http, http == 503 ? RETRY_AFTER_S : -1,
			 json_line) ||
	    fflush(out)) {
		dg_error("cannot write the reply: %s", strerror(errno));
		return DG_EXIT_IOERR;
	}
	return 0;
}

/* The JSON line of a request answered without a payload. */
static char *error_body(int http, const char *why)
{
	json_t *o = json_pack("{s:i, s:s, s:s}", "status", http, "result",
			      http == 401 ? "rejected" : "error", "reason",
			      why ? why : "");
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	if (!s)
		dg_die(DG_EXIT_SOFTWARE, "out of memory");
	json_decref(o);
	return s;
}

static int cgi_error(int http, const char *why)
{
	char *s = error_body(http, why);
	int ret = cgi_answer(stdout, http, s);

	free(s);
	return ret;
}

/* The request's signature header for the gateway (its value, or NULL)
 * and PayPal's transmission headers, from the CGI environment (h NULL)
 * or an SCGI head: the same names either way. */
static const char *req_header(const struct dg_scgi_head *h, const char *name)
{
	char *var = dg_cgi_var_name(name);
	const char *v = NULL;

	if (var)
		v = h ? dg_scgi_get(h, var) : getenv(var);
	free(var);
	return v;
}

static const char *req_headers(const struct ctx *c,
			       const struct dg_scgi_head *h,
			       struct dg_paypal_headers *pp)
{
	pp->transmission_id = req_header(h, "PAYPAL-TRANSMISSION-ID");
	pp->transmission_time = req_header(h, "PAYPAL-TRANSMISSION-TIME");
	pp->transmission_sig = req_header(h, "PAYPAL-TRANSMISSION-SIG");
	pp->cert_url = req_header(h, "PAYPAL-CERT-URL");
	pp->auth_algo = req_header(h, "PAYPAL-AUTH-ALGO");
	return req_header(h, strcmp(c->o->gateway, "stripe")
				     ? "X-Signature"
				     : "Stripe-Signature");
}

/* The setup failed before a request was read: still an HTTP answer. */
static int cgi_fail(int status)
{
	cgi_error(status == DG_EXIT_TEMPFAIL ? 503 : 500,
		  status == DG_EXIT_TEMPFAIL ? "database busy"
					     : "server error");
	return status;
}

static int run_cgi(struct ctx *c)
{
	struct dg_paypal_headers pp = {0};
	const char *sig = req_headers(c, NULL, &pp);
	struct dg_cgi_req req = {0};
	struct payload p = {0};
	char *why = NULL, *s;
	int http, ret;

	http = dg_cgi_read((size_t)c->o->max_body, &req, &why);
	if (http) {
		dg_error("request refused (%d): %s", http, why);
		ret = cgi_error(http, why);
		free(why);
		return ret ? ret : DG_EXIT_DATAERR;
	}
	p.where = dg_xstrdup("request");
	ingest(c, p.where, req.body, req.len, sig, &pp, &p);
	dg_cgi_req_free(&req);
	s = cgi_body(c, &p);
	ret = cgi_answer(stdout, p.http, s);
	free(s);
	ret = dg_exit_worst(p.status, ret);
	payload_clear(&p);
	return ret;
}

/* -------------------------------------------------------------- --scgi */

/* The whole answer to an SCGI request, as --cgi writes it to stdout. */
static void scgi_reply(struct dg_scgi_req *r, int http, const char *json_line)
{
	FILE *fp = open_memstream(&r->reply, &r->reply_len);

	if (!fp)
		dg_die(DG_EXIT_SOFTWARE, "out of memory");
	cgi_answer(fp, http, json_line);
	if (fclose(fp))
		dg_die(DG_EXIT_SOFTWARE, "out of memory");
}

static void scgi_refuse(struct dg_scgi_req *r, int http, const char *why)
{
	char *s = error_body(http, why);

	dg_error("request refused (%d): %s", http, why);
	scgi_reply(r, http, s);
	free(s);
}

/* One request checked as --cgi checks it, then verified and parsed:
 * true when its facts are to be recorded (else it is answered). */
static bool scgi_prepare(struct ctx *c, struct dg_scgi_req *r,
			 struct payload *p)
{
	const struct dg_scgi_head *h = &r->head;
	struct dg_paypal_headers pp = {0};
	const char *sig;
	char *why = NULL;
	size_t len;
	int http;

	if (r->error) {
		scgi_refuse(r, r->error, r->why);
		return false;
	}
	http = dg_cgi_check(dg_scgi_get(h, "REQUEST_METHOD"), h->h[0].value,
			    (size_t)c->o->max_body, &len, &why);
	if (http) {
		scgi_refuse(r, http, why);
		free(why);
		return false;
	}
	if (!r->body_read) /* the server reads up to the same cap */
		dg_die(DG_EXIT_SOFTWARE, "an SCGI body was not read");
	sig = req_headers(c, h, &pp);
	p->where = dg_xstrdup("request");
	return prepare(c, p->where, r->body, r->body_len, sig, &pp, p);
}

/* A part of the batch the database did not take: a rejection keeps its
 * reason (as reject() does), facts get no answer. */
static void part_failed(struct payload *p, int ret)
{
	if (p->reject_event) {
		p->status = ret;
		p->http = db_http(ret);
	} else {
		db_failed(p, ret);
	}
}

/* The facts of the payloads marked rec, and the events of the rejected
 * ones, in one transaction, each under a savepoint: one that fails is
 * answered on its own and the others are committed; a failed BEGIN or
 * COMMIT fails them all. */
static void record_batch(struct ctx *c, struct payload *ps, const bool *rec,
			 size_t n)
{
	size_t i, k;
	int ret;

	if ((ret = dg_db_begin(c->db)))
		goto fail;
	for (i = 0; i < n; i++) {
		if (!rec[i])
			continue;
		if ((ret = dg_db_savepoint(c->db))) {
			dg_db_rollback(c->db);
			goto fail;
		}
		ret = ps[i].reject_event ? reject_event(c, ps[i].reject_event)
					 : record_facts(c, &ps[i]);
		if (!ret && !(ret = dg_db_release(c->db)))
			continue;
		part_failed(&ps[i], ret);
		if ((ret = dg_db_rollback_part(c->db))) {
			dg_db_rollback(c->db);
			goto fail; /* the transaction is gone, and the rest */
		}
	}
	if (!(ret = dg_db_commit(c->db)))
		return;
fail:
	for (k = 0; k < n; k++)
		if (rec[k] && ps[k].http != 500 && ps[k].http != 503)
			part_failed(&ps[k], ret);
}

/* The requests complete at one moment: checked and verified one by one,
 * recorded together, the answers written only after the commit. */
static void scgi_batch(void *arg, struct dg_scgi_req **reqs, size_t n)
{
	struct ctx *c = arg;
	struct payload *ps = dg_xcalloc(n, sizeof(*ps));
	bool *rec = dg_xcalloc(n, sizeof(*rec));
	size_t i, nrec = 0;
	char *s;
	int ret;

	dg_debug("a batch of %zu requests", n);
	if ((ret = tick(c))) {
		for (i = 0; i < n; i++)
			scgi_refuse(reqs[i], 500, "server error");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((rec[i] = scgi_prepare(c, reqs[i], &ps[i]) ||
			      ps[i].reject_event))
			nrec++;
	if (nrec)
		record_batch(c, ps, rec, n);
	for (i = 0; i < n; i++) {
		if (!reqs[i]->reply) {
			s = cgi_body(c, &ps[i]);
			scgi_reply(reqs[i], ps[i].http, s);
			free(s);
		}
		payload_clear(&ps[i]);
	}
	dg_debug("the batch answered: %zu of %zu in one transaction", nrec, n);
out:
	free(rec);
	free(ps);
}

static int read_cert(struct ctx *c, const char *path);

/* SIGHUP: the secret (or PayPal certificate) file read again; the old
 * one kept when the new one cannot be read. */
static void scgi_reload(void *arg)
{
	struct ctx *c = arg;
	unsigned char *secret = NULL;
	size_t len = 0;
	char *cert = c->cert;
	size_t cert_len = c->cert_len;

	if (c->o->secret_file &&
	    !dg_secret_load(c->o->secret_file, &secret, &len) && secret) {
		OPENSSL_cleanse(c->secret, c->secret_len);
		free(c->secret);
		c->secret = secret;
		c->secret_len = len;
		dg_info("SIGHUP: the secret read again from %s",
			dg_quoted_path(c->o->secret_file));
	}
	if (c->o->paypal_cert) {
		if (!read_cert(c, c->o->paypal_cert)) {
			free(cert);
			dg_info("SIGHUP: the certificate read again from %s",
				dg_quoted_path(c->o->paypal_cert));
		} else {
			c->cert = cert;
			c->cert_len = cert_len;
		}
	}
}

static int run_scgi(struct ctx *c)
{
	struct dg_scgi_server sv = {
		.max_conns = (size_t)c->o->max_conns,
		.max_batch = (size_t)c->o->batch,
		.max_head = SCGI_MAX_HEAD,
		.max_body = (size_t)c->o->max_body,
		.timeout_ms = (int)c->o->client_timeout * 1000,
		.batch = scgi_batch,
		.reload = scgi_reload,
		.arg = c,
	};
	int ret;

	c->batched = true;
	ret = c->o->listen ? dg_scgi_listen(c->o->listen, &sv.listen_fd)
			   : dg_scgi_inherited(&sv.listen_fd);
	if (ret)
		return ret;
	dg_debug("serving SCGI");
	ret = dg_scgi_serve(&sv);
	close(sv.listen_fd);
	if (c->o->listen && strchr(c->o->listen, '/'))
		unlink(c->o->listen);
	return ret;
}

/* ---------------------------------------------------------------- main */

static int read_cert(struct ctx *c, const char *path)
{
	int ret = read_body(path, MAX_CERT, &c->cert, &c->cert_len);

	return ret;
}

static void summary(const struct ctx *c)
{
	if (c->o->cgi || c->o->scgi || dg_verbosity() < 0)
		return;
	if (c->recorded + c->duplicate + c->conflict + c->rejected +
		    c->ignored <=
	    1)
		return;
	dg_info("%lu recorded, %lu duplicate, %lu conflict, %lu rejected, "
		"%lu ignored",
		c->recorded, c->duplicate, c->conflict, c->rejected,
		c->ignored);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct ctx c = {.o = &o};
	int ret, worst = 0;

	dg_set_progname(argv[0]);
	parse_options(argc, argv, &o);
	if ((ret = tick(&c)))
		return o.cgi ? cgi_fail(ret) : ret;
	if (o.no_verify) {
		dg_warn("--no-verify: signatures are not checked; accept "
			"payloads only from a source you trust");
	} else if (strcmp(o.gateway, "paypal")) {
		if ((ret = dg_secret_load(o.secret_file, &c.secret,
					  &c.secret_len)))
			return o.cgi ? cgi_fail(ret) : ret;
		if (!c.secret) {
			dg_error("no webhook secret: set DAIGOU_WEBHOOK_SECRET "
				 "or --secret-file, or give --no-verify");
			return o.cgi ? cgi_fail(DG_EXIT_USAGE) : DG_EXIT_USAGE;
		}
	} else if (o.paypal_cert && (ret = read_cert(&c, o.paypal_cert))) {
		return o.cgi ? cgi_fail(ret) : ret;
	}
	if ((ret = dg_db_open(dg_db_path(o.common.db_path), &c.db)))
		goto out;
	if (!(c.store = dg_paystore_new(c.db))) {
		ret = DG_EXIT_IOERR;
		goto out;
	}
	if (o.cgi) {
		worst = run_cgi(&c);
		goto done;
	}
	if (o.scgi) {
		worst = run_scgi(&c);
		goto done;
	}
	c.out = dg_out_new(stdout, o.common.json, out_cols, NCOLS);
	if (o.jsonl)
		worst = run_jsonl(&c, argc - optind, argv + optind);
	else
		worst = run_files(&c, argc - optind, argv + optind);
	worst = dg_exit_worst(worst, dg_out_finish(c.out, worst));
	summary(&c);
done:
	dg_paystore_free(c.store);
	dg_db_close(c.db);
	free(c.cert);
	if (c.secret)
		OPENSSL_cleanse(c.secret, c.secret_len);
	free(c.secret);
	return worst;
out:
	if (o.cgi)
		cgi_fail(ret);
	dg_paystore_free(c.store);
	dg_db_close(c.db);
	free(c.cert);
	free(c.secret);
	return ret;
}
