#!/usr/bin/perl
# mxguard-report: counts exactly what the log lines say. Synthetic lines
# of every program and form (bare, multilog's TAI64N stamps, tai64nlocal
# stamps), genuine lines from rcptchecks (a CDB and a stub SMTP server),
# smtp-delay and rblenv, passed through the real multilog t; days in UTC
# and with -L; a rcpt= address that pretends to be a result; hostile
# input (NUL bytes, a 1 MB line, binary, a last line without newline);
# the -n and -m limits; usage errors and unreadable files.
use strict;
use warnings;
use Test::More;
use POSIX qw(strftime);
use lib 't/lib';
use MXTest;
use MXRun;
use MXReport;

my $top = top();
my $bin = "$top/report/mxguard-report";
plan skip_all => "$bin not built" unless -x $bin;
my $dir = tmpdir();

sub report {
  my ($input, @opts) = @_;
  my ($rc, $out, $err) = run_cmd(argv => [$bin, @opts], stdin => $input, env => { TZ => 'UTC' });
  is($rc, 0, "exit 0 (@opts)") or diag $err;
  is($err, '', "nothing on stderr (@opts)");
  return $out;
}

# the rows of one section (t/lib/MXReport.pm)
sub section { report_section(@_) }

# a TAI64N stamp for a Unix time
sub tai { sprintf '@%016x%08x', 4611686018427387914 + $_[0], 0 }

# ---------------------------------------------------------------------------
# synthetic lines, every form

my $t1 = 1704153599;   # 2024-01-01 23:59:59 UTC
my $t2 = 1704153600;   # 2024-01-02 00:00:00 UTC
my ($s1, $s2) = (tai($t1), tai($t2));
my $log = <<"LOG";
$s1 smtp-delay: info: pid 11 ip 192.0.2.7 class=none host=- why=noname delay=5.000 waited=0.012 result=refused first=EHLO x result=pass
$s1 smtp-delay: info: pid 12 ip 192.0.2.8 class=named host=mx.example.com why=name delay=1.000 waited=1.001 result=pass
$s1 smtp-delay: info: pid 13 ip 192.0.2.9 class=dynamic host=1-2-3-4.dsl.example why=ip delay=3.000 waited=0.500 result=early dryrun=1 first=HELO
$s1  rblenv: info: pid 14 ip 198.51.100.9 zone=zen.spamhaus.org:127.0.0.2,listed,12ms zone=bl.spamcop.net:nx,9ms score=3 result=refused elapsed=12
$s2 rblenv: info: pid 15 ip 198.51.100.10 zone=zen.spamhaus.org:nx,3ms score=0 result=clean elapsed=3
$s2 rblenv: info: pid 16 ip 198.51.100.11 zone=zen.spamhaus.org:127.0.0.2,listed,4ms score=3 result=late elapsed=4
$s2 rcptchecks: info: pid 17 ip 192.0.2.7 rcpt=<nobody\@example.org> result=unknown delay=1.000
$s2 rcptchecks: info: pid 17 ip 192.0.2.7 rcpt=<"x> result=pass delay=0.000"\@example.org> result=unknown delay=2.000
$s2 rcptchecks: warning: pid 17 ip 192.0.2.7 rcpt=<bob\@example.org> result=tempfail error=query failed: result=unknown delay=1.000 x
$s2 rcptchecks: info: pid 17 ip 192.0.2.7 rcpts=4 forwarded=1 unknown=2 refused=2 tempfail=1 messages=0 databytes=0 result=too-many-unknown
tcpserver: status: 1/200
tcpserver: pid 18 from 192.0.2.50
2024-01-02 10:11:12.123456789 relaydb-check: info: pid 19 ip 10.0.0.1 store=dir window=1800 result=unknown
2024-01-03T08:00:00 relaydb-rec: info: pid 20 ip 10.0.0.1 store=dir ts=1704268800 result=recorded
relaydb-rec: warning: pid 21 ip 10.0.0.2 result=pending reason=store slow, the login goes on
relaydb-check: warning: pid 22 ip 10.0.0.3 store=dir result=expired reason=unable to remove the entry: x
relaydb-check: info: pid 22 ip 10.0.0.3 store=dir age=9999 window=1800 result=expired
rcptchecks: info: pid 23 ip 192.0.2.20 rcpt=<a\@example.org> result=unknown dryrun=1 delay=0.000
smtp-delay: warning: pid 24 ip unset reason=bad_TCPREMOTEIP, no address test and no lookup
smtp-delay: fatal: unable to exec x: file does not exist
smtp-delay: info: pid 25 ip 192.0.2.21 result=trusted
rcptchecks: info: pid 26 ip 192.0.2.22 rcpts=1 forwarded=1 unknown=0 refused=0 tempfail=0 messages=1 databytes=300 result=quit
rcptchecks: info: pid 27 ip 192.0.2.23 rcpts=0 forwarded=0 unknown=0 refused=0 tempfail=0 messages=0 databytes=0 result=client-gone
rblenv: info: pid x ip 1.2.3.4 result=clean
\@4000000065 smtp-delay: info: pid 1 ip 192.0.2.1 result=trusted
2024-01-01 Jan 1 exim: something
LOG
my $out = report($log);
like($out, qr/^mxguard report: 26 lines, 17 decisions, 4 other messages, 5 skipped; days in UTC \(TAI64N stamps\) and as the date stamps name them$/m, 'the summary line: TAI64N stamps in UTC, date stamps as written') or diag $out;
{
  # date stamps only (tai64nlocal's, the journal's): counted as written, not "in UTC"
  my $o = report(join '', grep { /^2024-/ } split /^/, $log);
  like($o, qr/ skipped; days as the lines' date stamps name them$/m, 'date stamps only: the summary says the days are theirs') or diag $o;
  my $d = report("smtp-delay: info: pid 1 ip 192.0.2.1 result=trusted\n");
  like($d, qr/ skipped; days in UTC$/m, 'no date stamp: days in UTC') or diag $d;
}
is_deeply(section($out, 'TOTALS PER DAY'), {
  '2024-01-01' => [2, 1, 1, 0],
  '2024-01-02' => [5, 0, 2, 0],
  '2024-01-03' => [0, 0, 1, 0],
  undated      => [0, 1, 3, 1],
  all          => [7, 2, 7, 1],
}, 'totals per day: UTC days of the TAI64N stamps, dates of local stamps, undated') or diag $out;
is_deeply(section($out, 'REFUSALS BY REASON'), {
  'rcptchecks/rcpt-unknown' => 2, 'smtp-delay/refused' => 1, 'rblenv/refused' => 1, 'rblenv/late' => 1,
  'rcptchecks/rcpt-tempfail' => 1, 'rcptchecks/too-many-unknown' => 1,
  'rcptchecks/rcpt-unknown (dry run)' => 1, 'smtp-delay/early (dry run)' => 1,
}, 'refusals by reason, dry runs apart') or diag $out;
is_deeply(section($out, 'CLIENT ADDRESSES REFUSED'), {
  '192.0.2.7' => 5, '198.51.100.9' => 1, '198.51.100.11' => 1,
}, 'client addresses refused') or diag $out;
is_deeply(section($out, 'RECIPIENTS REFUSED'), {
  '<nobody@example.org>' => 1, '<"x> result=pass delay=0.000"@example.org>' => 1, '<bob@example.org>' => 1,
}, 'recipients refused; a quoted address that looks like a result is an address') or diag $out;
is_deeply(section($out, 'SESSIONS PER PROGRAM'), {
  'smtp-delay' => [1, 1, 2, 0], rblenv => [2, 0, 1, 0], rcptchecks => [1, 0, 1, 1],
  'relaydb-check' => [0, 0, 2, 0], 'relaydb-rec' => [0, 0, 1, 0], all => [4, 1, 7, 1],
}, 'sessions per program') or diag $out;
my $msgs = section($out, 'OTHER MESSAGES OF THE PROGRAMS');
is_deeply($msgs, { 'relaydb-rec warning' => 1, 'relaydb-check warning' => 1, 'smtp-delay warning' => 1, 'smtp-delay fatal' => 1 },
  'messages without a decision: pending, the expired warning, a warning, a fatal') or diag $out;
like($out, qr/^\s+3  not from an mxguard program$/m, 'tcpserver and exim lines skipped');
like($out, qr/^\s+1  an mxguard program's name, not its line form$/m, 'a malformed program line skipped');
# the bad stamp "@4000000065 ..." is too short to be one: skipped as such
like($out, qr/^\s+1  unreadable time stamp$/m, 'a short TAI64N stamp skipped') or diag $out;

# the same input twice: counts double, order the same
my $twice = report($log . $log);
is(section($twice, 'CLIENT ADDRESSES REFUSED')->{'192.0.2.7'}, 10, 'counts add up over the input');
is(report($log), $out, 'the same input, the same report');

# -d puts undated lines under a day; -L uses TZ for stamped lines
$out = report($log, '-d', '2024-01-03');
is_deeply(section($out, 'TOTALS PER DAY')->{'2024-01-03'}, [0, 1, 4, 1], '-d: undated lines counted under that day');
{
  my ($rc, $o) = run_cmd(argv => [$bin, '-L'], stdin => $log, env => { TZ => 'UTC-3' });
  is($rc, 0, '-L runs');
  is_deeply(section($o, 'TOTALS PER DAY')->{'2024-01-02'}, [7, 1, 3, 0], '-L: 23:59:59 UTC is the next day 3 hours east') or diag $o;
  like($o, qr/days in local time \(TAI64N stamps\) and as the date stamps name them/, '-L: said in the summary');
}

# ---------------------------------------------------------------------------
# genuine lines: rcptchecks with a CDB and a stub server, smtp-delay,
# rblenv, through multilog t

my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n", "$dir/r.cdb");
my ($rc, $o, $err);
my $stub = "$dir/stub";
open my $fh, '>', $stub or die;
print {$fh} <<'STUB';
#!/usr/bin/perl
$| = 1; print "220 stub ESMTP\r\n";
while (<STDIN>) { if (/^QUIT/i) { print "221 bye\r\n"; exit 0 } print "250 ok\r\n" }
STUB
close $fh;
chmod 0755, $stub;
my $genuine = '';
for my $ip ('192.0.2.7', '192.0.2.7', '2001:db8::1') {
  ($rc, $o, $err) = run_cmd(argv => ["$top/rcptchecks/rcptchecks", '-c', $cdb, '-u', '0', $stub],
    env => { TCPREMOTEIP => $ip, RELAYCLIENT => undef, RBLLATE => undef },
    stdin => "HELO x\r\nMAIL FROM:<a\@b.example>\r\nRCPT TO:<alice\@example.org>\r\nRCPT TO:<nobody\@example.org>\r\n"
           . "RCPT TO:<Ghost\@Example.org>\r\nRCPT TO:<x\@elsewhere.example>\r\nQUIT\r\n");
  is($rc, 0, "rcptchecks session from $ip") or diag $err;
  like($o, qr/^550 5\.1\.1 <nobody\@example\.org>/m, '... refuses the unknown recipient');
  $genuine .= $err;
}
($rc, $o, $err) = run_cmd(argv => ["$top/smtp-delay/smtp-delay", 'true'],
  env => { TCPREMOTEIP => '198.51.100.4', TCPREMOTEHOST => undef, RELAYCLIENT => undef, SMTPDELAY => '1' },
  stdin => "EHLO early\r\nQUIT\r\n", timeout => 20);
like($err, qr/result=refused/, 'smtp-delay refuses an early talker') or diag $err;
$genuine .= $err;
($rc, $o, $err) = run_cmd(argv => ["$top/smtp-delay/smtp-delay", 'true'],
  env => { TCPREMOTEIP => '198.51.100.5', RELAYCLIENT => '' });
like($err, qr/result=trusted/, 'smtp-delay passes a trusted client');
$genuine .= $err;
($rc, $o, $err) = run_cmd(argv => ["$top/rblenv/rblenv", '-t', '0.3', '-r', 'bl.example', 'true'],
  env => { TCPREMOTEIP => '198.51.100.6', RELAYCLIENT => undef, RBLSMTPD => undef, DNSCACHEIP => '127.0.0.1' });
like($err, qr/^rblenv: info: .* result=clean/m, 'rblenv: an unanswered lookup is clean') or diag $err;
$genuine .= $err;
is(scalar(() = $genuine =~ /\n/g), 18, 'eighteen genuine log lines') or diag $genuine;

my $mldir = "$dir/log";
($rc, undef, $err) = run_cmd(argv => ['multilog', 't', $mldir], stdin => "tcpserver: status: 1/200\n$genuine");
is($rc, 0, 'multilog t') or diag $err;
my $current = slurp("$mldir/current");
like($current, qr/^\@4000[0-9a-f]{20} rcptchecks: info: /m, 'multilog stamped the lines');
my $today = strftime('%Y-%m-%d', gmtime);
($rc, $out, $err) = run_cmd(argv => [$bin, "$mldir/current"], env => { TZ => 'UTC' });
is($rc, 0, 'the report of multilog\'s file') or diag $err;
my $day = section($out, 'TOTALS PER DAY');
my ($d) = grep { $_ ne 'all' } keys %$day;
ok($d eq $today || $d eq strftime('%Y-%m-%d', gmtime(time - 60)), "one day, today in UTC ($d)") or diag $out;
is_deeply($day->{$d}, [7, 0, 11, 0], '... 6 unknown recipients and an early talker refused; 6 recipients passed on, 3 sessions, a trusted, a clean passed') or diag $out;
is_deeply(section($out, 'REFUSALS BY REASON'), { 'rcptchecks/rcpt-unknown' => 6, 'smtp-delay/refused' => 1 }, 'genuine: reasons') or diag $out;
is_deeply(section($out, 'CLIENT ADDRESSES REFUSED'), { '192.0.2.7' => 4, '2001:db8::1' => 2, '198.51.100.4' => 1 }, 'genuine: addresses') or diag $out;
is_deeply(section($out, 'RECIPIENTS REFUSED'), { '<nobody@example.org>' => 3, '<Ghost@example.org>' => 3 }, 'genuine: recipients, as logged') or diag $out;
is_deeply(section($out, 'SESSIONS PER PROGRAM')->{rcptchecks}, [0, 0, 3, 0], 'genuine: three rcptchecks sessions ended with QUIT');
like($out, qr/^\s+1  not from an mxguard program$/m, 'multilog\'s stamped tcpserver line skipped');
# the same lines bare, from stdin and a file: the same counts, undated
($rc, $out) = run_cmd(argv => [$bin, '-', "$mldir/current"], stdin => $genuine, env => { TZ => 'UTC' });
is_deeply(section($out, 'TOTALS PER DAY')->{undated}, [7, 0, 11, 0], 'bare lines on stdin: undated');
is(section($out, 'REFUSALS BY REASON')->{'rcptchecks/rcpt-unknown'}, 12, 'stdin and a file, both counted');

# ---------------------------------------------------------------------------
# hostile input

my $good = "rcptchecks: info: pid 1 ip 192.0.2.99 rcpt=<x\@example.org> result=unknown delay=0.000\n";
my $hostile = $good
  . "rcptchecks: info: pid 1 ip 192.0.2.98 rcpt=<y\@exa\0mple.org> result=unknown delay=0.000\n"
  . 'smtp-delay: info: pid 2 ip 192.0.2.97 result=refused ' . ('A' x (1024 * 1024)) . "\n"
  . "smtp-delay: info: pid 3 ip 192.0.2.96 class=none host=\e[31m why=noname delay=1.000 waited=0.000 result=refused first=x\n"
  . join('', map { chr } 0 .. 255) . "\n"
  . "\@zzzzzzzzzzzzzzzzzzzzzzzz rblenv: info: pid 4 ip 192.0.2.95 result=refused\n"
  . sprintf('@%016x%08x', 1, 0) . " rblenv: info: pid 4 ip 192.0.2.95 result=refused\n"
  . "rcptchecks: info: pid 5 ip 192.0.2.94 rcpt=<z\@example.org> result=unknown\n"
  . "rcptchecks: info: pid 5 ip 192.0.2.94 result=" . ('x' x 40) . "\n"
  . "rcptchecks: info: pid 5 ip\n"
  . "\n"
  . $good
  . 'rblenv: info: pid 6 ip 192.0.2.93 ' . ('z' x 40000);   # overlong, no newline
$out = report($hostile);
like($out, qr/^mxguard report: 14 lines, 2 decisions, 0 other messages, 12 skipped;/m, 'hostile input: every line counted') or diag substr($out, 0, 3000);
is_deeply(section($out, 'CLIENT ADDRESSES REFUSED'), { '192.0.2.99' => 2 }, 'only the good lines counted');
like($out, qr/^\s+2  NUL byte$/m, 'NUL bytes (an address, the start of the binary line)');
like($out, qr/^\s+2  bytes outside printable ASCII$/m, 'an escape sequence, the rest of the binary line after its LF');
like($out, qr/^\s+2  longer than 32768 bytes$/m, 'a 1 MB line and an overlong last line without newline');
like($out, qr/^\s+2  unreadable time stamp$/m, 'a stamp of no hex digits, a stamp before 1970');
like($out, qr/^\s+3  an mxguard program's name, not its line form$/m, 'rcpt= line without delay, a long result word, no ip');
like($out, qr/^\s+1  not from an mxguard program$/m, 'an empty line');
ok($out !~ /[^\x20-\x7e\n]/, 'the report is printable ASCII');

# random bytes: no crash, every line accounted for
{
  srand(42);
  my $junk = join '', map { chr(int rand 256) } 1 .. 200000;
  my $lines = () = $junk =~ /\n/g;
  $lines++ unless $junk =~ /\n\z/;
  $out = report($junk);
  like($out, qr/^mxguard report: $lines lines, 0 decisions, 0 other messages, $lines skipped;/m, '200 KB of random bytes: skipped, all counted');
}

# ---------------------------------------------------------------------------
# the limits

my $many = join '', map { "smtp-delay: info: pid $_ ip 192.0.2.$_ result=refused first=x\n" x $_ } 1 .. 5;
$out = report($many, '-n', '2');
like($out, qr/^CLIENT ADDRESSES REFUSED \(top 2 of 5\)$/m, '-n 2: the table says it is cut');
is_deeply(section($out, 'CLIENT ADDRESSES REFUSED'), { '192.0.2.5' => 5, '192.0.2.4' => 4, '(3 more addresses)' => 6 }, '-n 2: the top two, the rest summed');
$out = report($many, '-m', '2');
is_deeply(section($out, 'CLIENT ADDRESSES REFUSED'), { '192.0.2.1' => 1, '192.0.2.2' => 2, '(beyond the limit)' => 12 }, '-m 2: two keys held, the rest counted beyond');
like($out, qr/more than 2 distinct addresses: the counts of later ones, 12, are under "\(beyond the limit\)"/, '-m 2: the report says the cap was hit');
$out = report($many, '-n', '0');
is(scalar(keys %{ section($out, 'CLIENT ADDRESSES REFUSED') }), 5, '-n 0: every row');
$out = report('');
like($out, qr/^mxguard report: 0 lines, 0 decisions, 0 other messages, 0 skipped;/m, 'empty input');
like($out, qr/^TOTALS PER DAY\n  none$/m, '... sections say none');

# ---------------------------------------------------------------------------
# usage and read errors

for my $bad (['-n', 'x'], ['-n', '-1'], ['-m', '0'], ['-m', '10000001'], ['-d', '2024-13-01'], ['-d', '24-01-01'], ['-d'], ['-x'], ['-H', '-l']) {
  ($rc, $o, $err) = run_cmd(argv => [$bin, @$bad], stdin => '');
  is($rc, 100, "usage error: @$bad");
  like($err, qr/^mxguard-report: usage: mxguard-report /, "... with the usage line");
}
($rc, $o, $err) = run_cmd(argv => [$bin, "$dir/missing"]);
is($rc, 111, 'a missing file: exit 111');
like($err, qr/^mxguard-report: fatal: unable to open \Q$dir\E\/missing: /, '... with the reason');
is($o, '', '... and no report');
($rc, $o, $err) = run_cmd(argv => [$bin, $dir]);
is($rc, 111, 'a directory: exit 111 (read error)');
like($err, qr/unable to read \Q$dir\E: /, '... with the reason');

# smtp-tls's lines: the share of sessions in TLS per day
{
  my $lines = join '', map { "$_\n" }
    'smtp-tls: info: pid 1 ip 192.0.2.1 tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 sni=- result=quit',
    'smtp-tls: info: pid 2 ip 192.0.2.2 tls=none result=quit',
    'smtp-tls: warning: pid 3 ip 192.0.2.3 tls=failed result=handshake-failed error=TLS error: no shared cipher',
    'smtp-tls: info: pid 4 ip 192.0.2.1 tls=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 sni=mx.example.org injected=23 result=client-eof',
    'smtp-tls: warning: pid 5 ip 192.0.2.4 tls=unavailable error=unable to read the key';
  my ($rc, $out) = run_cmd(argv => [$bin, '-'], stdin => $lines, env => { TZ => 'UTC' });
  is($rc, 0, 'smtp-tls lines: the report');
  like($out, qr/^TLS SESSIONS PER DAY \(smtp-tls\)\n  day +tls +clear +failed +tls share\n  undated +2 +1 +1 +66\.7%\n  all +2 +1 +1 +66\.7%$/m,
    'two sessions in TLS, one in clear, one failed handshake: 66.7% in TLS') or diag $out;
  like($out, qr/^  smtp-tls +0 +0 +3 +1$/m, 'smtp-tls sessions: 3 passed, the failed handshake other');
  like($out, qr/^ +1  smtp-tls warning$/m, 'the unusable key: a message, not a decision');
}

# proxy-env's and smtp-forward's lines: decisions of their own
{
  my $lines = join '', map { "$_\n" }
    'proxy-env: info: pid 1 ip 192.0.2.100 client=192.0.2.7 port=4000 version=2 result=proxy',
    'proxy-env: info: pid 2 ip 192.0.2.100 version=2 result=local',
    'proxy-env: warning: pid 3 ip 192.0.2.100 result=refused reason=no PROXY header',
    'smtp-forward: info: pid 4 ip 192.0.2.7 server=127.0.0.1:2525 mode=xclient name=mail.example.com up=120 down=900 result=closed',
    'smtp-forward: info: pid 5 ip 192.0.2.8 server=127.0.0.1:2525 mode=proxy2 up=0 down=40 result=idle',
    'smtp-forward: warning: pid 6 ip 192.0.2.9 server=127.0.0.1:2525 result=unavailable reason=XCLIENT not offered';
  my ($rc, $out) = run_cmd(argv => [$bin, '-'], stdin => $lines, env => { TZ => 'UTC' });
  is($rc, 0, 'proxy-env and smtp-forward lines: the report');
  like($out, qr/^  proxy-env +1 +0 +2 +0$/m, 'proxy-env: 1 refused, 2 passed') or diag $out;
  like($out, qr/^  smtp-forward +1 +0 +2 +0$/m, 'smtp-forward: 1 unavailable (refused), 2 sessions passed') or diag $out;
}

# smtp-screen's lines (as it writes them): the screening section per day
{
  my ($d1, $d2) = (tai(1704153599), tai(1704153600));
  my $lines = join '', map { "$_\n" }
    "$d1 smtp-screen: info: pid 9 ip 192.0.2.1 port=4001 id=1 pregreet=pass rdns=named dnsbl=clean score=0 waited=1.001 result=pass child=20",
    "$d1 smtp-screen: info: pid 9 ip 192.0.2.1 port=4002 id=2 cache=hit rdns=named,cached dnsbl=cached score=0 waited=0.001 result=pass child=21",
    "$d1 smtp-screen: info: pid 9 ip 192.0.2.2 port=4003 id=3 cache=partial rdns=named,cached dnsbl=clean score=0 waited=0.012 result=pass child=22",
    "$d1 smtp-screen: info: pid 9 ip 192.0.2.3 port=4004 id=4 pregreet=fail rdns=none,unanswered waited=0.100 result=refused first=EHLO x",
    "$d1 smtp-screen: info: pid 9 ip 192.0.2.4 port=4005 id=5 pregreet=pass rdns=none dnsbl=refused score=3 lists=zen.example waited=6.000 result=pass child=23",
    "$d2 smtp-screen: info: pid 9 ip 192.0.2.5 port=4006 id=6 rules=deny waited=0.000 result=deny",
    "$d2 smtp-screen: info: pid 9 ip 192.0.2.6 port=4007 id=7 waited=0.000 result=limit limit=conn",
    "$d2 smtp-screen: info: pid 9 ip 192.0.2.7 port=4008 id=8 pregreet=fail rdns=dynamic waited=0.200 result=refused via=rblsmtpd child=24 first=HELO",
    "$d2 smtp-screen: info: pid 9 ip 192.0.2.8 port=4009 id=9 waited=0.300 result=hangup reason=closed",
    "$d2 smtp-screen: info: pid 9 ip 192.0.2.9 port=4010 id=10 skip=dnswl rdns=named dnsbl=allowed score=-5 lists=wl.example waited=0.010 result=pass child=25",
    "$d2 smtp-screen: info: pid 9 cache=/var/lib/screen stored=3 expired=0 dropped=0 damaged=0 result=loaded",
    "$d2 smtp-screen: warning: pid 9 ip 192.0.2.4 zone=bad.example answer=127.255.255.254 reason=configuration fault: an answer outside 127.0.0.0/8 or a query-refused code never counts";
  my ($rc, $out) = run_cmd(argv => [$bin, '-'], stdin => $lines, env => { TZ => 'UTC' });
  is($rc, 0, 'smtp-screen lines: the report');
  like($out, qr/^SCREENING PER DAY \(smtp-screen[^\n]*\n  day +passed +cached +partial +limited +pregreet +dnsbl +rules +other\n/m, 'the screening section and its columns') or diag $out;
  like($out, qr/^  2024-01-01 +3 +1 +1 +0 +1 +1 +0 +0$/m, 'day 1: 3 passed (1 from the cache, 1 in part), 1 pregreeter, 1 DNSBL refusal');
  like($out, qr/^  2024-01-02 +1 +0 +0 +1 +1 +0 +1 +1$/m, 'day 2: 1 passed (DNSWL), 1 limited, 1 pregreeter handed to rblsmtpd, 1 denied, 1 hangup');
  like($out, qr/^  all +4 +1 +1 +1 +2 +1 +1 +1$/m, 'all days');
  like($out, qr/^  smtp-screen +4 +0 +5 +1$/m, 'smtp-screen decisions: 4 refused (2 pregreet, deny, limit), 5 passed, 1 other');
  like($out, qr/^ +1  smtp-screen info$/m, "the listener's own line: a message, not a decision");
  unlike($out, qr/an mxguard program's name, not its line form/, 'no smtp-screen line skipped');
}

done_testing;
