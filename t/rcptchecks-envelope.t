#!/usr/bin/perl
# rcptchecks' envelope checks (envelope.h) in front of exim4 -bs, with a
# real tinydns: the HELO name (invalid, not a FQDN, a literal that is not
# the client's), the sender's form, its domain (MX, A, AAAA; NXDOMAIN,
# no records, a null MX, a server that never answers), RHSBL zones with
# filters and weights, the sender access list (REJECT, OK lifting
# RBLLATE but never the recipient check), unauthorised pipelining and
# non-SMTP commands. Each: refused, warn-only passes and logs, skipped
# for RELAYCLIENT and after AUTH. Every decision line names helo= and
# from=.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
plan skip_all => "$bin not built" unless -x $bin;

my $dir = tmpdir();
my $cdb = "$dir/r.cdb";
{
  make_cdb(recipients => "example.org\nalice\@example.org\npostmaster\@example.org\n", $cdb);
  make_cdb(senders => <<'LIST', "$dir/s.cdb");
# the sender access list
spammer@good.mxtest.test   REJECT you again
@blocked.mxtest.test       REJECT
friend@good.mxtest.test    OK
.trusted.mxtest.test       OK
LIST
}

my $nullmx = '@nullmx.mxtest.test::.:0';
my $dns = start_tinydns(data => join '', map { "$_\n" }
  '.mxtest.test::', '.dbl.mxtest.test::', '.half.mxtest.test::',
  '@good.mxtest.test:127.0.0.25:mx', '+aonly.mxtest.test:127.0.0.26', "'nomail.mxtest.test:no mail here",
  $nullmx, '@sub.trusted.mxtest.test:127.0.0.25:mx', '@blocked.mxtest.test:127.0.0.25:mx',
  '@listed.mxtest.test:127.0.0.25:mx', '+listed.mxtest.test.dbl.mxtest.test:127.0.1.2',
  '@fault.mxtest.test:127.0.0.25:mx', '+fault.mxtest.test.dbl.mxtest.test:127.255.255.254',
  '@weak.mxtest.test:127.0.0.25:mx', '+weak.mxtest.test.half.mxtest.test:127.0.0.2',
  '@outside.mxtest.test:127.0.0.25:mx', '+outside.mxtest.test.dbl.mxtest.test:10.0.0.1',
  '@filtered.mxtest.test:127.0.0.25:mx', '+filtered.mxtest.test.dbl.mxtest.test:127.0.0.2',
  ':aaaaonly.mxtest.test:28:' . ('\000' x 15) . '\001');

my $dbl = 'dbl.mxtest.test=127.0.1.[2..99]';
sub guard {
  my (%a) = @_;
  my $mta = $a{mta} // exim_child();
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'],
    env => { RELAYCLIENT => undef, RBLLATE => undef, DNSCACHEIP => $dns->ip, %{ $a{env} || {} } },
    argv => [$bin, '-c', $cdb, '-d', '0', '-u', '0', @{ $a{opts} }, @{ $mta->argv }]);
  return $s;
}
sub client {
  my ($s) = @_;
  my $ip = loopback_ip();
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => 15);
  return ($c, $ip);
}
sub lines { my ($s, $ip) = @_; grep { /^rcptchecks: \w+: pid \d+ ip \Q$ip\E / } split /\n/, $s->log_text }
# greeting, HELO/EHLO with $helo, MAIL with $from: MAIL's reply
sub mail_reply {
  my ($s, $helo, $from, %o) = @_;
  my ($c, $ip) = client($s);
  $c->expect(qr/^220 /, 10);
  my $h = $c->cmd(($o{verb} // 'EHLO') . " $helo");
  my $r = $c->cmd("MAIL FROM:$from", 20);
  my $rr = $o{rcpt} ? $c->cmd("RCPT TO:<$o{rcpt}>", 10) : '';
  $c->cmd('QUIT');
  return wantarray ? ($r, $ip, $rr, $c) : $r;
}

my $all = guard(opts => ['-E', 'all', '-S', "$dir/s.cdb", '-R', $dbl, '-R', 'half.mxtest.test*0', '-y', '2']);

subtest 'HELO: invalid, not a FQDN, a literal not the client\'s' => sub {
  like(scalar mail_reply($all, 'bad_name.example', '<a@good.mxtest.test>'), qr/^501 5\.5\.2 <a\@good\.mxtest\.test>: Helo command rejected: Invalid name/, 'invalid: 501 5.5.2');
  like(scalar mail_reply($all, 'localhost', '<a@good.mxtest.test>'), qr/^504 5\.5\.2 .*need fully-qualified hostname/, 'not a FQDN: 504 5.5.2');
  like(scalar mail_reply($all, '[192.0.2.1]', '<a@good.mxtest.test>'), qr/^550 5\.7\.1 .*address literal/, 'another address literal: 550 5.7.1');
  my ($c, $ip) = client($all);
  $c->expect(qr/^220 /);
  $c->cmd("EHLO [$ip]");
  like($c->cmd('MAIL FROM:<a@good.mxtest.test>', 20), qr/^250 /, "the client's own literal [$ip]: passes");
  $c->cmd('QUIT');
  my ($r, $ip2) = mail_reply($all, 'client.example', '<a@good.mxtest.test>');
  like($r, qr/^250 /, 'a FQDN: passes');
  my ($r3, $ip3) = mail_reply($all, 'localhost', '<a@good.mxtest.test>');
  wait_until(20, sub { grep { /helo=<localhost> from=<a\@good\.mxtest\.test> result=helo-not-fqdn$/ } lines($all, $ip3) },
    'logged with helo= and from=');
};

subtest 'the sender: form, domain in the DNS' => sub {
  like(scalar mail_reply($all, 'client.example', '<user@localhost>'), qr/^553 5\.1\.7 .*need fully-qualified address/, 'not a FQDN: 553 5.1.7');
  like(scalar mail_reply($all, 'client.example', '<user>'), qr/^553 5\.1\.7 /, 'no domain: 553 5.1.7');
  like(scalar mail_reply($all, 'client.example', '<>'), qr/^250 /, '<> (a bounce) passes');
  like(scalar mail_reply($all, 'client.example', '<u@nx.mxtest.test>'), qr/^550 5\.1\.8 .*Domain not found/, 'NXDOMAIN: 550 5.1.8');
  like(scalar mail_reply($all, 'client.example', '<u@nomail.mxtest.test>'), qr/^550 5\.1\.8 .*no mail server/, 'no MX, A or AAAA: 550 5.1.8');
  like(scalar mail_reply($all, 'client.example', '<u@nullmx.mxtest.test>'), qr/^550 5\.1\.8 .*null MX/, 'a null MX (RFC 7505): 550 5.1.8');
  like(scalar mail_reply($all, 'client.example', '<u@aonly.mxtest.test>'), qr/^250 /, 'an A record and no MX: passes');
  like(scalar mail_reply($all, 'client.example', '<u@aaaaonly.mxtest.test>'), qr/^250 /, 'an AAAA record and no MX: passes');
  my $t0 = time;
  like(scalar mail_reply($all, 'client.example', '<u@silent.elsewhere.test>'), qr/^450 4\.1\.8 /, 'a server that never answers: 450 4.1.8, never a 5xx');
  cmp_ok(time - $t0, '<', 6, 'within the DNS deadline (-y 2)');
};

subtest 'RHSBL: filters, weights, faults' => sub {
  like(scalar mail_reply($all, 'client.example', '<u@listed.mxtest.test>'), qr/^550 5\.7\.1 .*listed by dbl\.mxtest\.test/, 'listed: 550 5.7.1 naming the zone');
  my ($r, $ip) = mail_reply($all, 'client.example', '<u@fault.mxtest.test>');
  like($r, qr/^250 /, '127.255.255.254 never counts');
  wait_until(20, sub { grep { /zone=dbl\.mxtest\.test answer=127\.255\.255\.254 reason=configuration fault/ } lines($all, $ip) },
    'and is logged as a configuration fault');
  like(scalar mail_reply($all, 'client.example', '<u@weak.mxtest.test>'), qr/^250 /, 'listed in a zone of weight 0: passes');
  my ($r2, $ip2) = mail_reply($all, 'client.example', '<u@outside.mxtest.test>');
  like($r2, qr/^250 /, 'an answer outside 127/8 never counts');
  wait_until(20, sub { grep { /zone=dbl\.mxtest\.test answer=10\.0\.0\.1 reason=configuration fault/ } lines($all, $ip2) },
    '... logged as a fault');
  like(scalar mail_reply($all, 'client.example', '<u@filtered.mxtest.test>'), qr/^250 /, 'an answer the filter does not take (127.0.0.2 for 127.0.1.[2..99]): passes');
  my $silent = guard(opts => ['-R', 'rbl.elsewhere.test', '-y', '1']);
  my $t0 = time;
  like(scalar mail_reply($silent, 'client.example', '<u@good.mxtest.test>'), qr/^250 /, 'a zone that never answers lists nothing');
  cmp_ok(time - $t0, '<', 4, '... after the -y deadline');
  my $temp = guard(opts => ['-R', $dbl, '-Y']);
  like(scalar mail_reply($temp, 'client.example', '<u@listed.mxtest.test>'), qr/^451 4\.7\.1 /, '-Y: 451 4.7.1');
};

subtest 'the sender access list' => sub {
  like(scalar mail_reply($all, 'client.example', '<spammer@good.mxtest.test>'), qr/^550 5\.7\.1 <spammer\@good\.mxtest\.test>: you again/, 'REJECT with its text');
  like(scalar mail_reply($all, 'client.example', '<anyone@blocked.mxtest.test>'), qr/^550 5\.7\.1 .*Access denied/, '@domain REJECT');
  my $late = guard(opts => ['-S', "$dir/s.cdb", '-E', 'helo-fqdn'], env => { RBLLATE => 'listed in a test zone' });
  my (undef, undef, $rr) = mail_reply($late, 'client.example', '<stranger@good.mxtest.test>', rcpt => 'alice@example.org');
  like($rr, qr/^451 .*listed in a test zone/, 'RBLLATE refuses a stranger at RCPT');
  my ($r, $ip, $rr2) = mail_reply($late, 'localhost', '<friend@good.mxtest.test>', rcpt => 'alice@example.org');
  like($r, qr/^250 /, 'an OK sender skips the HELO check');
  like($rr2, qr/^250 /, 'and RBLLATE is lifted for it');
  my (undef, undef, $rr3) = mail_reply($late, 'client.example', '<x@sub.trusted.mxtest.test>', rcpt => 'nobody@example.org');
  like($rr3, qr/^550 5\.1\.1 /, '.trusted.mxtest.test covers sub.trusted..., and the recipient check still applies');
  wait_until(20, sub { grep { /from=<friend\@good\.mxtest\.test> result=sender-ok$/ } lines($late, $ip) }, 'sender-ok logged');
};

subtest 'warn-only: logged as would-refuse, passed' => sub {
  my $warn = guard(opts => ['-W', 'all', '-S', "$dir/s.cdb", '-R', $dbl, '-y', '2']);
  my ($r, $ip) = mail_reply($warn, 'localhost', '<spammer@good.mxtest.test>');
  like($r, qr/^250 /, 'HELO localhost and a REJECTed sender: passes');
  ($r, my $ip2) = mail_reply($warn, 'client.example', '<u@nx.mxtest.test>');
  like($r, qr/^250 /, 'an NXDOMAIN sender: passes');
  wait_until(20, sub { grep { /result=sender-rejected dryrun=1$/ } lines($warn, $ip) }, 'sender-rejected dryrun=1 logged');
  wait_until(20, sub { grep { /result=sender-unknown dryrun=1$/ } lines($warn, $ip2) }, 'sender-unknown dryrun=1 logged');
  my $wf = guard(opts => ['-E', 'helo-fqdn', '-W', 'helo-fqdn']);
  like(scalar mail_reply($wf, 'localhost', '<a@good.mxtest.test>'), qr/^250 /, '-W after -E: warn-only wins');
};

subtest 'skipped for RELAYCLIENT and after AUTH' => sub {
  my $relay = guard(opts => ['-E', 'all'], env => { RELAYCLIENT => '' });
  like(scalar mail_reply($relay, 'localhost', '<user@localhost>'), qr/^250 /, 'RELAYCLIENT: nothing checked');
  my $mta = exim_child(auth => 1);
  my $auth = guard(mta => $mta, opts => ['-E', 'all']);
  my ($c) = client($auth);
  $c->expect(qr/^220 /);
  $c->cmd('EHLO localhost');
  require MIME::Base64;
  like($c->cmd('AUTH PLAIN ' . MIME::Base64::encode_base64("\0" . $mta->auth_user . "\0" . $mta->auth_password, '')), qr/^235 /, 'authenticated');
  like($c->cmd('MAIL FROM:<user@localhost>'), qr/^250 /, 'after AUTH: nothing checked');
  $c->cmd('QUIT');
};

subtest 'unauthorised pipelining' => sub {
  my $p = guard(opts => ['-E', 'pipelining']);
  my ($c, $ip) = client($p);
  $c->expect(qr/^220 /);
  $c->send("HELO client.example\r\nMAIL FROM:<a\@good.mxtest.test>\r\nRCPT TO:<alice\@example.org>\r\n");
  my ($all_out) = $c->read_all(10);
  like($all_out, qr/^554 5\.5\.0 Error: improper use of SMTP command pipelining\r\n\z/m, 'after HELO: 554 5.5.0, and the end');
  wait_until(20, sub { grep { /result=pipelining$/ } lines($p, $ip) }, 'logged');
  ($c) = client($p);
  $c->expect(qr/^220 /);
  $c->send("EHLO client.example\r\nMAIL FROM:<a\@good.mxtest.test>\r\n");
  ($all_out) = $c->read_all(10);
  like($all_out, qr/554 5\.5\.0 /, 'before the EHLO answer: 554');
  ($c) = client($p);
  $c->send("EHLO early.example\r\n");
  ($all_out) = $c->read_all(10);
  like($all_out, qr/\A554 5\.5\.0 /, 'before the greeting: 554');
  ($c) = client($p);
  $c->expect(qr/^220 /);
  like($c->cmd('EHLO client.example'), qr/^250-PIPELINING/m, 'EHLO offers PIPELINING');
  $c->send("MAIL FROM:<a\@good.mxtest.test>\r\n" . join('', map { "RCPT TO:<alice\@example.org>\r\n" } 1 .. 50) . "DATA\r\n");
  my $n = 0;
  for (1 .. 52) { my ($code) = $c->read_reply(10); $n++ if defined $code && $code =~ /^[23]/ }
  is($n, 52, 'announced PIPELINING: 50 pipelined RCPTs answered, nothing refused');
  $c->send(".\r\nQUIT\r\n");
};

subtest 'pipelining: the end of the data is never withheld' => sub {
  my $mta = exim_child();
  my $p = guard(mta => $mta, opts => ['-E', 'pipelining']);
  my ($c, $ip) = client($p);
  $c->expect(qr/^220 /);
  like($c->cmd('HELO client.example'), qr/^250 /, 'HELO');
  like($c->cmd('MAIL FROM:<a@good.mxtest.test>'), qr/^250 /, 'MAIL');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT');
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  $c->send("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
  my ($out) = $c->read_all(10);
  like($out, qr/\A250 .*\r\n221 /s, 'QUIT right after the final dot: the 250, then 221');
  unlike($out, qr/554/, 'no 554 for a delivered message');
  is(scalar($mta->wait_messages(1)), 1, 'delivered');
};

subtest 'a second MAIL in a transaction lifts nothing' => sub {
  my $late = guard(opts => ['-S', "$dir/s.cdb"], env => { RBLLATE => 'listed in a test zone' });
  my ($c) = client($late);
  $c->expect(qr/^220 /);
  $c->cmd('EHLO client.example');
  like($c->cmd('MAIL FROM:<spam@good.mxtest.test>'), qr/^250 /, 'MAIL from a stranger');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^451 .*listed in a test zone/, 'RBLLATE refuses');
  like($c->cmd('MAIL FROM:<friend@good.mxtest.test>'), qr/^503 5\.5\.1 /, 'a nested MAIL from an OK sender: 503 here');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^451 /, 'RBLLATE still refuses for the first sender\'s transaction');
  like($c->cmd('RSET'), qr/^250 /, 'RSET');
  like($c->cmd('MAIL FROM:<friend@good.mxtest.test>'), qr/^250 /, 'a new transaction for the OK sender');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RBLLATE lifted for it');
  $c->cmd('QUIT');
};

subtest 'a source route does not hide a REJECTed sender' => sub {
  like(scalar mail_reply($all, 'client.example', '<@relay.example:spammer@good.mxtest.test>'), qr/^550 5\.7\.1 .*you again/, 'refused as the mailbox after the route');
  my $long = '<' . ('a' x 300) . '@good.mxtest.test>';
  like(scalar mail_reply($all, 'client.example', $long), qr/^553 5\.1\.7 .*256 bytes/, 'a path over 256 bytes: 553, never checked cut short');
};

subtest 'a root dot hides nothing: the name without it, for every check' => sub {
  # a guard of its own: the report subtest below counts $all's lines
  my $rd = guard(opts => ['-E', 'all', '-S', "$dir/s.cdb", '-R', $dbl, '-y', '2']);
  like(scalar mail_reply($rd, 'client.example', '<spammer@good.mxtest.test.>'), qr/^550 5\.7\.1 <spammer\@good\.mxtest\.test>: you again/, 'access list, an address: REJECT');
  like(scalar mail_reply($rd, 'client.example', '<anyone@BLOCKED.mxtest.test.>'), qr/^550 5\.7\.1 .*Access denied/, 'access list, @domain: REJECT');
  like(scalar mail_reply($rd, 'client.example', '<u@listed.mxtest.test.>'), qr/^550 5\.7\.1 .*listed by dbl\.mxtest\.test/, 'RHSBL: listed');
  like(scalar mail_reply($rd, 'client.example', '<u@nx.mxtest.test.>'), qr/^550 5\.1\.8 .*Domain not found/, 'sender domain: NXDOMAIN');
  like(scalar mail_reply($rd, 'client.example', '<u@localhost.>'), qr/^553 5\.1\.7 /, 'localhost.: not a FQDN');
  like(scalar mail_reply($rd, 'client.example', '<u@good.mxtest.test..>'), qr/^553 5\.1\.7 /, 'two dots: not a name');
  like(scalar mail_reply($rd, 'mail.example.net.', '<a@good.mxtest.test>'), qr/^250 /, 'EHLO mail.example.net.: passes, as in Postfix');
  like(scalar mail_reply($rd, 'mail.example.net.', '<a@good.mxtest.test>', verb => 'HELO'), qr/^250 /, 'HELO mail.example.net.: passes');
  like(scalar mail_reply($rd, 'localhost.', '<a@good.mxtest.test>'), qr/^504 5\.5\.2 /, 'EHLO localhost.: judged as localhost, 504');
  like(scalar mail_reply($rd, 'mail.example.net..', '<a@good.mxtest.test>'), qr/^501 5\.5\.2 /, 'EHLO mail.example.net..: invalid');
};

subtest 'non-SMTP commands' => sub {
  my $p = guard(opts => ['-E', 'nonsmtp']);
  for my $line ('GET / HTTP/1.0', 'CONNECT 192.0.2.1:25 HTTP/1.1', 'POST /x HTTP/1.1', 'USER alice', 'Host: mx.example.org', 'User-Agent: curl/8') {
    my ($c, $ip) = client($p);
    $c->expect(qr/^220 /);
    $c->sendline($line);
    my ($out, $eof) = $c->read_all(10);
    like($out, qr/\A421 4\.7\.0 /, "$line: 421");
    ok($eof, "$line: the end");
  }
  my ($c) = client($p);
  $c->expect(qr/^220 /);
  like($c->cmd('EHLO client.example'), qr/^250[ -]/, 'EHLO still passes');
  like($c->cmd('MAIL FROM:<a@good.mxtest.test>'), qr/^250 /, 'MAIL still passes (no header-like line)');
  $c->cmd('QUIT');
};

subtest 'decision lines carry helo= and from=' => sub {
  my ($r, $ip, $rr) = mail_reply($all, 'client.example', '<a@good.mxtest.test>', rcpt => 'nobody@example.org');
  like($rr, qr/^550 /, 'an unknown recipient');
  wait_until(20, sub { grep { /helo=<client\.example> from=<a\@good\.mxtest\.test> rcpt=<nobody\@example\.org> result=unknown/ } lines($all, $ip) },
    'the RCPT line names helo and from');
};

subtest 'mxguard-report: refusals by sender and recipient, from this run\'s log' => sub {
  my $report = "$top/report/mxguard-report";
  my $log = "$dir/all.log";
  open my $fh, '>', $log or die; print {$fh} $all->log_text; close $fh;
  my ($rc, $out, $err) = run_cmd(argv => [$report, '-l', '-r', 'nobody@example.org', $log]);
  is($rc, 0, 'listing for a recipient') or diag $err;
  like($out, qr/^undated  \S+  <a\@good\.mxtest\.test>  <nobody\@example\.org>  rcptchecks\/rcpt-unknown$/m, 'who was refused for nobody@example.org, and from which sender');
  unlike($out, qr/nx\.mxtest\.test/, 'nothing else');
  ($rc, $out) = run_cmd(argv => [$report, '-l', '-s', '@NX.mxtest.test', $log]);
  like($out, qr/^undated  \S+  <u\@nx\.mxtest\.test>  -  rcptchecks\/sender-unknown$/m, 'by sender domain (any case): the sender refused at MAIL');
  is(scalar(() = $out =~ /\n/g), 1, 'one line');
  my $pl = guard(opts => ['-E', 'pipelining']);
  my ($pc, $pip) = client($pl);
  $pc->send("EHLO early.example\r\n");
  $pc->read_all(10);
  wait_until(20, sub { grep { /result=pipelining$/ } lines($pl, $pip) }, 'a pipelining refusal');
  open my $pf, '>', "$dir/pl.log" or die; print {$pf} $pl->log_text; close $pf;
  ($rc, $out) = run_cmd(argv => [$report, "$dir/pl.log"]);
  like($out, qr/^ +1  rcptchecks\/pipelining$/m, '... counted once in the report') or diag $out;
  ($rc, $out) = run_cmd(argv => [$report, '-d', '2026-12-01', $log]);
  like($out, qr/^SENDERS REFUSED PER DAY \(rcptchecks\) \(top 20 a day\)\n  day +count  sender\n(?:  2026-12-01 +\d+  <[^>]*>\n)+/m, 'top refused senders per day') or diag $out;
  like($out, qr/^  2026-12-01 +2  <spammer\@good\.mxtest\.test>$/m, '... among them the REJECTed one');
  like($out, qr/^SENDER DOMAINS REFUSED PER DAY \(rcptchecks\).*\n.*\n(?:  2026-12-01 .*\n)*  2026-12-01 +\d+  nx\.mxtest\.test$/m, 'and domains');
  ($rc) = run_cmd(argv => [$report, '-r', 'x@y', $log]);
  is($rc, 100, '-r without -l: usage');
};

done_testing;
