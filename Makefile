# mxguard.  See INSTALL.  Compiler and linker commands: conf-cc, conf-ld.
# Every file this Makefile makes is listed in TARGETS (fuzz/TARGETS for
# "make fuzz-build"); "make clean" removes exactly those.

CC      = $(shell head -n 1 conf-cc)
LD      = $(shell head -n 1 conf-ld)
PREFIX  = $(shell head -n 1 conf-prefix)
DESTDIR =
SANITIZE =
# programs that wait in large numbers are linked statically, except under
# the sanitizers (their runtimes want a dynamic program)
STATIC = $(if $(SANITIZE),,-static)
CPPFLAGS = -Icommon -I/usr/include/mariadb
DEPFLAGS = -MMD -MP

# skalibs is linked statically and MariaDB Connector/C is dlopen()ed only
# by a program told to use SQL: no dynamic loading on the hot path of an
# exec chain. See common/LIBRARIES for what may be linked with what.
SKALIBS = -l:libskarnet.a
MARIADB = -ldl
# libidn2 (IDNA2008) and the libunistring it needs, static: common/LIBRARIES
IDN2 = -l:libidn2.a -l:libunistring.a
# LMDB, the greylisting store, static: common/LIBRARIES
LMDB = -l:liblmdb.a -lpthread

# The SMTP chain's links are static. relaydb-check and rcptchecks can use
# SQL, which a static program cannot load: each is built twice, NAME
# (static, mx_mariadb-static.o) and NAME-sql (dynamic, mx_mariadb.o), to
# which NAME hands over when told to use SQL (common/mx_mariadb.h).
PROGRAMS = relaydb/relaydb relaydb/relaydb-rec relaydb/relaydb-check relaydb/relaydb-check-sql smtp-delay/smtp-delay rblenv/rblenv rcptchecks/rcptchecks rcptchecks/rcptchecks-sql rcptchecks/rcptchecks-make rcptchecks/greydb smtp-tls/smtp-tls proxy-env/proxy-env smtp-forward/smtp-forward smtp-screen/smtp-screen report/mxguard-report
MAN8     = relaydb/relaydb.8 relaydb/relaydb-rec.8 relaydb/relaydb-check.8 smtp-delay/smtp-delay.8 rblenv/rblenv.8 rcptchecks/rcptchecks.8 rcptchecks/rcptchecks-make.8 rcptchecks/greydb.8 smtp-tls/smtp-tls.8 proxy-env/proxy-env.8 smtp-forward/smtp-forward.8 smtp-screen/smtp-screen.8 report/mxguard-report.8
MAN7     = rcptchecks/rcptchecks-recipients.7 rcptchecks/rcptchecks-envelope.7 rcptchecks/rcptchecks-session.7
UNITS    = t/unit/ip-test t/unit/text-test t/unit/dnsname-test t/unit/classify-test t/unit/zonespec-test t/unit/rcptaddr-test t/unit/smtp-test t/unit/tarpit-test t/unit/linger-test t/unit/proxyhdr-test t/unit/forward-test t/unit/envelope-test t/unit/utf8-test t/unit/net-test t/unit/wait-test t/unit/sql-test t/unit/relaydb-window-test t/unit/engine-test t/unit/cache-test t/unit/rbl-test t/unit/spf-test t/unit/greystore-test t/unit/greyrace-test

COMMON_IP  = common/mx_ip.o common/mx_text.o
COMMON_RUN = $(COMMON_IP) common/mx_client.o common/mx_exec.o common/mx_log.o common/mx_secs.o common/mx_wait.o common/mx_linger.o common/mx_fifo.o common/mx_child.o
STORES     = relaydb/store.o relaydb/store-dir.o relaydb/store-sql.o relaydb/relaydb-opts.o common/mx_sql.o
RELAYSTORE = $(STORES) common/mx_mariadb.o

# libowfat's DNS client, sealed: mx_dns.o, mx_dnsq.o and the libowfat
# members they need in one relocatable object, every symbol local but
# the entry points of mx_dns.h and mx_dnsq.h (common/LIBRARIES).
# Programs link this, never libowfat itself.
OWFAT = /usr/lib/libowfat.a
DNS_SEALED = common/mx_dns-sealed.o

# A link rule names its objects once, as prerequisites: LINK links
# those (conf-ld and the like are prerequisites too, but not objects).
LINK = $(LD) $(SANITIZE) -o $@ $(filter %.o,$^)

all: $(PROGRAMS) $(UNITS) t/dnsq-test t/spf-check

DNS_OBJS = common/mx_dns.o common/mx_dnsq.o common/mx_spfdns.o
DNS_ENTRY = mx_dns_fcrdns mx_dns_all mx_dns_q_new mx_dns_q_free mx_dns_q_fd mx_dns_q_fcrdns mx_dns_q_lookup mx_dns_q_cancel mx_dns_q_timeout mx_dns_q_run mx_dns_q_next mx_dns_q_counts mx_dns_spf_start mx_dns_spf_ask

common/mx_dns-linked.o: $(DNS_OBJS)
	ld -r -o $@ $(DNS_OBJS) $(OWFAT)

$(DNS_SEALED): common/mx_dns-linked.o
	objcopy $(DNS_ENTRY:%=--keep-global-symbol=%) common/mx_dns-linked.o $@

%.o: %.c conf-cc
	$(CC) $(SANITIZE) $(DEPFLAGS) $(CPPFLAGS) -c -o $@ $<

common/mx_mariadb-static.o: common/mx_mariadb.c conf-cc
	$(CC) $(SANITIZE) $(DEPFLAGS) $(CPPFLAGS) -DMX_MARIADB_STATIC -c -o $@ $<

relaydb/relaydb-opts.o: relaydb/relaydb-opts.c conf-cc conf-relaydb
	$(CC) $(SANITIZE) $(DEPFLAGS) $(CPPFLAGS) -DRELAYDB_DIR='"$(shell head -n 1 conf-relaydb)"' -c -o $@ $<

relaydb/relaydb: relaydb/relaydb.o relaydb/loadline.o $(RELAYSTORE) $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS) $(MARIADB)

relaydb/relaydb-rec: relaydb/relaydb-rec.o $(RELAYSTORE) $(COMMON_RUN) conf-ld
	$(LINK) $(SKALIBS) $(MARIADB)

relaydb/relaydb-check: relaydb/relaydb-check.o relaydb/relaywindow.o $(STORES) common/mx_mariadb-static.o $(COMMON_RUN) conf-ld
	$(LINK) $(STATIC) $(SKALIBS)

relaydb/relaydb-check-sql: relaydb/relaydb-check.o relaydb/relaywindow.o $(RELAYSTORE) $(COMMON_RUN) conf-ld
	$(LINK) $(SKALIBS) $(MARIADB)

SMTPDELAY = smtp-delay/smtp-delay.o common/mx_classify.o common/mx_refuse.o smtp-delay/refuse.o

# static: hundreds of these wait out their delay at once, and a static
# program's private memory is a fraction of a dynamically linked one's
smtp-delay/smtp-delay: $(SMTPDELAY) $(COMMON_RUN) $(DNS_SEALED) conf-ld
	$(LINK) $(STATIC) $(SKALIBS)

RBLENV = rblenv/rblenv.o common/mx_rbl.o common/mx_zonespec.o

rblenv/rblenv: $(RBLENV) $(COMMON_RUN) $(DNS_SEALED) conf-ld
	$(LINK) $(STATIC) $(SKALIBS)

rcptchecks/rcptchecks.o: rcptchecks/rcptchecks.c conf-cc conf-rcptchecks
	$(CC) $(SANITIZE) $(DEPFLAGS) $(CPPFLAGS) -DRCPTCHECKS_CDB='"$(shell head -n 1 conf-rcptchecks)"' -c -o $@ $<

GREYSTORE = rcptchecks/greystore.o rcptchecks/greystore-any.o rcptchecks/greystore-lmdb.o rcptchecks/greystore-sql.o common/mx_sql.o

RCPTCHECKS = rcptchecks/rcptchecks.o rcptchecks/proxy.o rcptchecks/engine.o rcptchecks/answers.o rcptchecks/verbs.o common/mx_smtp.o rcptchecks/check.o rcptchecks/tarpit.o rcptchecks/source.o rcptchecks/rcptaddr.o rcptchecks/envelope.o rcptchecks/helo.o rcptchecks/sender.o rcptchecks/senderline.o rcptchecks/listline.o rcptchecks/spf.o common/mx_spf.o common/mx_spfmacro.o common/mx_zonespec.o common/mx_sql.o common/mx_utf8.o common/mx_dnsname.o $(GREYSTORE) rcptchecks/greylist.o rcptchecks/spfallow.o common/mx_rbl.o

rcptchecks/rcptchecks: $(RCPTCHECKS) common/mx_mariadb-static.o $(COMMON_RUN) $(DNS_SEALED) conf-ld
	$(LINK) $(STATIC) $(SKALIBS) $(IDN2) $(LMDB)

# dynamic: Connector/C is dlopen()ed when -g asks for SQL
rcptchecks/rcptchecks-sql: $(RCPTCHECKS) common/mx_mariadb.o $(COMMON_RUN) $(DNS_SEALED) conf-ld
	$(LINK) $(SKALIBS) $(IDN2) $(MARIADB) $(LMDB)

rcptchecks/rcptchecks-make: rcptchecks/rcptchecks-make.o rcptchecks/listline.o rcptchecks/senderline.o common/mx_dnsname.o common/mx_text.o common/mx_utf8.o conf-ld
	$(LINK) $(SKALIBS) $(IDN2)

# dynamic: Connector/C is dlopen()ed when -g asks for SQL
rcptchecks/greydb: rcptchecks/greydb.o rcptchecks/greyline.o $(GREYSTORE) common/mx_mariadb.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS) $(MARIADB) $(LMDB)

# OpenSSL for smtp-tls only, dlopen()ed at the first STARTTLS (its
# headers for the prototypes, no link: common/LIBRARIES)
OPENSSL = -ldl
SMTPTLS = smtp-tls/smtp-tls.o smtp-tls/session.o smtp-tls/io.o smtp-tls/tls.o common/mx_smtp.o common/mx_relay.o

smtp-tls/smtp-tls: $(SMTPTLS) $(COMMON_RUN) conf-ld
	$(LINK) $(SKALIBS) $(OPENSSL)

PROXYENV = proxy-env/proxy-env.o common/mx_proxyhdr.o common/mx_net.o

# static: the first link of every connection behind a balancer
proxy-env/proxy-env: $(PROXYENV) $(COMMON_RUN) conf-ld
	$(LINK) $(STATIC) $(SKALIBS)

SMTPFORWARD = smtp-forward/smtp-forward.o smtp-forward/handshake.o common/mx_proxyhdr.o smtp-forward/connect.o common/mx_relay.o common/mx_smtp.o

# static: the last link of every session to an MTA over TCP
smtp-forward/smtp-forward: $(SMTPFORWARD) $(COMMON_RUN) $(DNS_SEALED) conf-ld
	$(LINK) $(STATIC) $(SKALIBS)

SMTPSCREEN = smtp-screen/smtp-screen.o smtp-screen/options.o smtp-screen/conn.o smtp-screen/client.o smtp-screen/refuse.o smtp-screen/slots.o smtp-screen/listen.o smtp-screen/clientlimits.o smtp-screen/rules.o smtp-screen/handoff.o smtp-screen/lookup.o smtp-screen/cache.o smtp-screen/cachefile.o common/mx_refuse.o common/mx_proxyhdr.o common/mx_net.o common/mx_classify.o common/mx_rbl.o common/mx_zonespec.o

# static: one long-lived process; its children are spawned (vfork and
# exec), so its size costs nothing per client
smtp-screen/smtp-screen: $(SMTPSCREEN) $(COMMON_RUN) $(DNS_SEALED) conf-ld
	$(LINK) $(STATIC) $(SKALIBS)

REPORT = report/mxguard-report.o report/collect.o report/html.o report/svg.o report/logline.o report/tally.o

report/mxguard-report: $(REPORT) conf-ld
	$(LINK) $(SKALIBS)

t/unit/classify-test: t/unit/classify-test.o common/mx_classify.o t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS)

t/unit/zonespec-test: t/unit/zonespec-test.o common/mx_zonespec.o t/unit/tap.o conf-ld
	$(LINK)

t/unit/rbl-test: t/unit/rbl-test.o common/mx_rbl.o common/mx_zonespec.o common/mx_text.o t/unit/tap.o conf-ld
	$(LINK) $(SKALIBS)

t/unit/rcptaddr-test.o: CPPFLAGS += -Ircptchecks
t/unit/rcptaddr-test: t/unit/rcptaddr-test.o t/unit/qmail-model.o rcptchecks/rcptaddr.o common/mx_dnsname.o common/mx_smtp.o common/mx_text.o common/mx_utf8.o t/unit/tap.o conf-ld
	$(LINK) $(IDN2)

t/unit/smtp-test: t/unit/smtp-test.o common/mx_smtp.o t/unit/tap.o conf-ld
	$(LINK)

t/unit/tarpit-test.o: CPPFLAGS += -Ircptchecks
t/unit/tarpit-test: t/unit/tarpit-test.o rcptchecks/tarpit.o t/unit/tap.o conf-ld
	$(LINK)

t/unit/ip-test: t/unit/ip-test.o t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS)

t/unit/linger-test: t/unit/linger-test.o t/unit/tap.o common/mx_linger.o common/mx_wait.o common/mx_secs.o conf-ld
	$(LINK) $(SKALIBS)

t/unit/proxyhdr-test: t/unit/proxyhdr-test.o common/mx_proxyhdr.o t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS)

t/unit/envelope-test.o: CPPFLAGS += -Ircptchecks
ENVELOPE_PARSE = rcptchecks/helo.o rcptchecks/sender.o rcptchecks/senderline.o rcptchecks/listline.o rcptchecks/rcptaddr.o common/mx_dnsname.o common/mx_smtp.o common/mx_utf8.o
t/unit/envelope-test: t/unit/envelope-test.o $(ENVELOPE_PARSE) t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS) $(IDN2)

# the session engine on bytes alone; the recipient source is the test's stub
t/unit/engine-test.o: CPPFLAGS += -Ircptchecks
ENGINE = rcptchecks/engine.o rcptchecks/answers.o rcptchecks/verbs.o rcptchecks/check.o rcptchecks/tarpit.o rcptchecks/envelope.o rcptchecks/spf.o common/mx_spf.o common/mx_spfmacro.o common/mx_zonespec.o common/mx_fifo.o common/mx_log.o common/mx_secs.o
t/unit/engine-test: t/unit/engine-test.o $(ENGINE) $(ENVELOPE_PARSE) t/unit/tap.o $(COMMON_IP) $(DNS_SEALED) conf-ld
	$(LINK) $(SKALIBS) $(IDN2)

t/unit/forward-test.o: CPPFLAGS += -Ismtp-forward
t/unit/forward-test: t/unit/forward-test.o smtp-forward/handshake.o common/mx_smtp.o t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS)

t/unit/utf8-test: t/unit/utf8-test.o t/unit/tap.o common/mx_utf8.o common/mx_text.o conf-ld
	$(LINK) $(IDN2)
t/unit/net-test: t/unit/net-test.o t/unit/tap.o common/mx_net.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS)

t/unit/dnsname-test: t/unit/dnsname-test.o t/unit/tap.o common/mx_dnsname.o conf-ld
	$(LINK)

t/unit/sql-test: t/unit/sql-test.o t/unit/tap.o common/mx_sql.o common/mx_mariadb.o conf-ld
	$(LINK) $(SKALIBS) $(MARIADB)

t/unit/wait-test: t/unit/wait-test.o t/unit/tap.o common/mx_wait.o common/mx_secs.o conf-ld
	$(LINK) $(SKALIBS)

t/unit/relaydb-window-test.o: CPPFLAGS += -Irelaydb
t/unit/relaydb-window-test: t/unit/relaydb-window-test.o relaydb/relaywindow.o t/unit/tap.o conf-ld
	$(LINK)

# mx_dnsq's driver for t/dnsq.t (a real tinydns): skalibs beside the
# sealed DNS object, as a program of the chain links them
t/dnsq-test: t/dnsq-test.o common/mx_secs.o $(DNS_SEALED) conf-ld
	$(LINK) $(SKALIBS)

# the SPF evaluator against a scripted resolver; t/spf-check, its driver
# for t/spf.t, against a real tinydns through the sealed DNS object
SPF = common/mx_spf.o common/mx_spfmacro.o
t/unit/spf-test: t/unit/spf-test.o t/unit/spfzone.o t/unit/tap.o $(SPF) conf-ld
	$(LINK)
t/spf-check: t/spf-check.o $(SPF) $(DNS_SEALED) conf-ld
	$(LINK)

t/unit/text-test: t/unit/text-test.o t/unit/tap.o common/mx_text.o conf-ld
	$(LINK) $(SKALIBS)

# greylisting's keys and decision, apart from any store
t/unit/greystore-test.o: CPPFLAGS += -Ircptchecks
t/unit/greystore-test: t/unit/greystore-test.o rcptchecks/greystore.o rcptchecks/greyline.o t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS)

# the LMDB store under racing processes
t/unit/greyrace-test.o: CPPFLAGS += -Ircptchecks
t/unit/greyrace-test: t/unit/greyrace-test.o $(GREYSTORE) common/mx_mariadb.o t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS) $(MARIADB) $(LMDB)

# smtp-screen's memory of clients that passed, on its own
t/unit/cache-test.o: CPPFLAGS += -Ismtp-screen
t/unit/cache-test: t/unit/cache-test.o smtp-screen/cache.o smtp-screen/cachefile.o t/unit/tap.o $(COMMON_IP) conf-ld
	$(LINK) $(SKALIBS)

# The whole suite, as CI runs it (the README's test command without the
# package installation).
test: all
	prove -j2 t/

# The whole suite again under AddressSanitizer and UBSan: a rebuild with
# the sanitizers, the tests, then a normal rebuild.
asan:
	$(MAKE) clean
	$(MAKE) SANITIZE='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined'
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 prove -j2 t/ ; \
	  status=$$? ; $(MAKE) clean ; $(MAKE) ; exit $$status

# libFuzzer harnesses for the parsers (fuzz/*-fuzz.c), built with clang
# into fuzz/ (objects apart from the gcc build). "make fuzz" runs each for
# FUZZ_SECONDS from its seed corpus fuzz/corpus/NAME (new inputs go to a
# temporary directory) and fails if one crashes; the input that crashed
# it is left as fuzz/NAME-crash-*. "make -j2 fuzz" runs two at a time.
FUZZ_NAMES = rcptaddr smtp zonespec loadline listline patterns proxyhdr handshake envelope utf8 netlist session starttls dnsq cache rules refuse spf greydb spfallow reporthtml
FUZZERS  = $(FUZZ_NAMES:%=fuzz/%-fuzz)
FUZZ_SECONDS = 60
# FUZZ_RUNS=N: stop each harness after N inputs too, whichever comes first
FUZZ_RUNS =
FUZZ_CC  = clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(filter -std=% -W% -D%,$(CC))
# Every object of a harness is built into fuzz/ by one rule, from the
# folder vpath finds its source in (no two of these folders share a
# file name). A program's object sees common/ and its own folder only,
# as in the build; a harness (fuzz/*-fuzz.c, t/unit's models) sees the
# folders it drives too.
FUZZ_DIRS = fuzz common rcptchecks relaydb smtp-delay smtp-forward smtp-tls smtp-screen report t/unit
vpath %.c $(FUZZ_DIRS)
# (rcptchecks' check.h names Connector/C's types: the MariaDB headers)
FUZZ_CPPFLAGS = -Icommon -I/usr/include/mariadb
fuzz/%-fuzz.o fuzz/qmail-model.o: FUZZ_CPPFLAGS += $(FUZZ_DIRS:%=-I%)
# longest input per harness: a little over the longest the program takes
FUZZ_MAXLEN_rcptaddr = 1100
FUZZ_MAXLEN_smtp     = 2048
FUZZ_MAXLEN_zonespec = 600
FUZZ_MAXLEN_loadline = 1024
FUZZ_MAXLEN_listline = 1100
FUZZ_MAXLEN_patterns = 1100
FUZZ_MAXLEN_proxyhdr = 2100
FUZZ_MAXLEN_handshake = 9000
FUZZ_MAXLEN_envelope = 1100
FUZZ_MAXLEN_utf8     = 300
FUZZ_MAXLEN_netlist = 4200
FUZZ_MAXLEN_session = 4096
FUZZ_MAXLEN_starttls = 4096
FUZZ_MAXLEN_dnsq     = 1500
FUZZ_MAXLEN_cache    = 4096
FUZZ_MAXLEN_rules    = 2048
FUZZ_MAXLEN_spf      = 4096
FUZZ_MAXLEN_greydb   = 1200
FUZZ_MAXLEN_spfallow = 4096
FUZZ_MAXLEN_reporthtml = 4096

fuzz/%.o: %.c conf-cc
	$(FUZZ_CC) $(DEPFLAGS) $(FUZZ_CPPFLAGS) -I$(<D) -c -o $@ $<

fuzz/rcptaddr-fuzz: fuzz/rcptaddr-fuzz.o fuzz/rcptaddr.o fuzz/mx_dnsname.o fuzz/mx_smtp.o fuzz/mx_text.o fuzz/mx_utf8.o fuzz/qmail-model.o
fuzz/smtp-fuzz:     fuzz/smtp-fuzz.o fuzz/mx_smtp.o
fuzz/proxyhdr-fuzz: fuzz/proxyhdr-fuzz.o fuzz/mx_proxyhdr.o fuzz/mx_ip.o fuzz/mx_text.o
fuzz/envelope-fuzz: fuzz/envelope-fuzz.o fuzz/helo.o fuzz/sender.o fuzz/senderline.o fuzz/listline.o fuzz/rcptaddr.o fuzz/mx_dnsname.o fuzz/mx_smtp.o fuzz/mx_text.o fuzz/mx_ip.o fuzz/mx_utf8.o
fuzz/handshake-fuzz: fuzz/handshake-fuzz.o fuzz/handshake.o fuzz/mx_smtp.o fuzz/mx_ip.o
fuzz/zonespec-fuzz: fuzz/zonespec-fuzz.o fuzz/mx_zonespec.o
fuzz/loadline-fuzz: fuzz/loadline-fuzz.o fuzz/loadline.o fuzz/mx_ip.o
fuzz/listline-fuzz: fuzz/listline-fuzz.o fuzz/listline.o fuzz/mx_dnsname.o fuzz/mx_text.o fuzz/mx_utf8.o
fuzz/patterns-fuzz: fuzz/patterns-fuzz.o fuzz/mx_classify.o
fuzz/utf8-fuzz:     fuzz/utf8-fuzz.o fuzz/mx_utf8.o fuzz/mx_text.o
fuzz/netlist-fuzz: fuzz/netlist-fuzz.o fuzz/mx_net.o fuzz/mx_ip.o fuzz/mx_text.o
fuzz/session-fuzz: fuzz/session-fuzz.o fuzz/engine.o fuzz/answers.o fuzz/verbs.o fuzz/check.o fuzz/tarpit.o fuzz/envelope.o fuzz/spf.o fuzz/mx_spf.o fuzz/mx_spfmacro.o fuzz/mx_zonespec.o fuzz/helo.o fuzz/sender.o fuzz/senderline.o fuzz/listline.o fuzz/rcptaddr.o fuzz/mx_dnsname.o fuzz/mx_smtp.o fuzz/mx_text.o fuzz/mx_ip.o fuzz/mx_utf8.o fuzz/mx_fifo.o fuzz/mx_log.o fuzz/mx_secs.o
fuzz/starttls-fuzz: fuzz/starttls-fuzz.o fuzz/session.o fuzz/mx_smtp.o fuzz/mx_fifo.o
fuzz/cache-fuzz:    fuzz/cache-fuzz.o fuzz/cache.o fuzz/cachefile.o fuzz/mx_ip.o fuzz/mx_text.o
fuzz/rules-fuzz:    fuzz/rules-fuzz.o fuzz/rules.o
fuzz/refuse-fuzz:   fuzz/refuse-fuzz.o fuzz/mx_refuse.o
fuzz/spf-fuzz:      fuzz/spf-fuzz.o fuzz/spfzone.o fuzz/mx_spf.o fuzz/mx_spfmacro.o
fuzz/greydb-fuzz:   fuzz/greydb-fuzz.o fuzz/greyline.o fuzz/greystore.o fuzz/mx_ip.o fuzz/mx_text.o
fuzz/spfallow-fuzz: fuzz/spfallow-fuzz.o fuzz/spfallow.o fuzz/listline.o fuzz/mx_dnsname.o fuzz/mx_text.o fuzz/mx_utf8.o
fuzz/reporthtml-fuzz: fuzz/reporthtml-fuzz.o fuzz/collect.o fuzz/html.o fuzz/svg.o fuzz/logline.o fuzz/tally.o fuzz/mx_utf8.o fuzz/mx_text.o
$(filter-out fuzz/dnsq-fuzz,$(FUZZERS)):
	$(FUZZ_CC) -o $@ $^ $(SKALIBS) $(IDN2)
# mx_dnsq's answer parser, unsealed: libowfat alone, no skalibs
fuzz/dnsq-fuzz: fuzz/dnsq-fuzz.o fuzz/mx_dnsq.o fuzz/mx_dns.o $(OWFAT)
	$(FUZZ_CC) -o $@ $^

fuzz-build: $(FUZZERS)

fuzz: $(FUZZ_NAMES:%=fuzz-run-%)

$(FUZZ_NAMES:%=fuzz-run-%): fuzz-run-%: fuzz/%-fuzz
	@work=$$(mktemp -d) || exit 111 ; mkdir $$work/new ; \
	fuzz/$*-fuzz -max_total_time=$(FUZZ_SECONDS) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) -max_len=$(FUZZ_MAXLEN_$*) -timeout=10 \
	  -print_final_stats=1 -artifact_prefix=fuzz/$*- $$work/new fuzz/corpus/$* 2>$$work/log ; \
	status=$$? ; \
	runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$work/log) ; \
	rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$work/log) ; \
	corp=$$(sed -n 's/^#[0-9]*.*DONE .*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' $$work/log) ; \
	seeds=$$(ls fuzz/corpus/$* | wc -l) ; new=$$(ls $$work/new | wc -l) ; \
	if [ $$status = 0 ] ; then \
	  echo "fuzz/$*-fuzz: $$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' $$work/log) s, $$runs runs, $$rate exec/s, corpus $$corp ($$seeds seeds, $$new new inputs), no crash" ; \
	else \
	  tail -n 60 $$work/log >&2 ; \
	  echo "fuzz/$*-fuzz: FAILED (exit $$status); the input is in fuzz/$*-*" >&2 ; \
	fi ; \
	rm -rf $$work ; exit $$status

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7

# The Debian package (debian/, made with debhelper): dpkg-buildpackage
# leaves mxguard_VERSION_ARCH.deb (with its .buildinfo and .changes) in
# the parent directory of this one. debian/rules cleans the tree first
# (make clean) and builds with Debian's flags (debian/rules says which).
deb:
	dpkg-buildpackage -us -uc -b
	@echo "made: $$(cd .. && pwd)/$$(dpkg-parsechangelog -S Source)_$$(dpkg-parsechangelog -S Version)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb"

clean:
	cat TARGETS fuzz/TARGETS | grep -v '^#' | xargs rm -f

.PHONY: all test asan install deb clean fuzz fuzz-build $(FUZZ_NAMES:%=fuzz-run-%)

-include $(wildcard common/*.d relaydb/*.d smtp-delay/*.d rblenv/*.d rcptchecks/*.d smtp-tls/*.d proxy-env/*.d smtp-forward/*.d smtp-screen/*.d report/*.d t/unit/*.d t/*.d fuzz/*.d)
