#!/usr/bin/perl
# rcptchecks' SPF check at MAIL (-E spf, spf.h) in front of exim4 -bs,
# with zones served by a real tinydns: pass, fail (550 5.7.23 with the
# domain's explanation), softfail and permerror by policy (-O softfail=,
# -O permerror=),
# temperror (a zone never answered: 451 4.7.24 within -F), the null
# sender checked by its HELO name, skipped for RELAYCLIENT, after AUTH
# and for an OK of the sender access list, warn-only (-W spf). The
# Received-SPF field is at the head of the delivered message's data and
# the client's bytes follow it unchanged; the decision lines carry spf=.
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
make_cdb(recipients => "example.org\nalice\@example.org\n", $cdb);
make_cdb(senders => "friend\@fail.spf.test OK\n", "$dir/s.cdb");

# every client of this test connects from one loopback address, which
# the records name
my $ip = loopback_ip();
sub txt {
  my ($name, $text) = @_;
  $text =~ s/([^A-Za-z0-9 .=~+?\/_{}%-])/sprintf('\\%03o', ord $1)/ge;
  return "'$name:$text:60";
}
my $dns = start_tinydns(data => join '', map { "$_\n" }
  '.spf.test::',
  txt('pass.spf.test', "v=spf1 ip4:$ip -all"),
  txt('fail.spf.test', 'v=spf1 ip4:192.0.2.1 -all exp=why.spf.test'),
  txt('why.spf.test', '%{d} sends no mail from %{i}'),
  txt('plain.spf.test', 'v=spf1 -all'),
  txt('soft.spf.test', 'v=spf1 ~all'),
  txt('perm.spf.test', 'v=spf1 frobnicate:x -all'),
  txt('neutral.spf.test', 'v=spf1 ?all'),
  '+nospf.spf.test:192.0.2.9', '+plain.spf.test:192.0.2.9',
  txt('helo-pass.spf.test', "v=spf1 a:pass-host.spf.test -all"),
  "+pass-host.spf.test:$ip",
  txt('helo-fail.spf.test', 'v=spf1 -all'),
  txt('temp.spf.test', 'v=spf1 include:silent.elsewhere.test -all'));

sub guard {
  my (%a) = @_;
  my $mta = $a{mta} // exim_child();
  my $s = start_tcpserver(opts => ['-R', '-H', '-l', $a{localname} // '0'],
    env => { RELAYCLIENT => undef, RBLLATE => undef, DNSCACHEIP => $dns->ip, %{ $a{env} || {} } },
    argv => [$bin, '-c', $cdb, '-d', '0', '-u', '0', @{ $a{opts} }, @{ $mta->argv }]);
  return wantarray ? ($s, $mta) : $s;
}
sub client {
  my ($s) = @_;
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => 15);
  $c->expect(qr/^220 /, 10);
  return $c;
}
sub lines { my ($s) = @_; grep { /^rcptchecks: \w+: pid \d+ ip \Q$ip\E / } split /\n/, $s->log_text }
# EHLO $helo, MAIL FROM:$from: MAIL's reply
sub mail_reply {
  my ($s, $helo, $from) = @_;
  my $c = client($s);
  $c->cmd("EHLO $helo");
  my $r = $c->cmd("MAIL FROM:$from", 20);
  $c->cmd('QUIT');
  return $r;
}
# a whole transaction; returns the replies to MAIL and to the data
my $n = 0;
sub deliver {
  my ($s, $helo, $from, $data) = @_;
  my $c = client($s);
  $c->cmd("EHLO $helo");
  my $r = $c->cmd("MAIL FROM:$from", 20);
  return ($r) unless $r =~ /^250 /;
  $c->cmd('RCPT TO:<alice@example.org>');
  $c->cmd('DATA') =~ /^354 / or return ($r, 'no 354');
  $c->send($data);
  my (undef, $end) = $c->read_reply(20);
  $c->cmd('QUIT');
  return ($r, $end);
}
# a message whose delivered form is the same bytes (no dot to unstuff)
sub message {
  my ($tag) = @_;
  $n++;
  return "From: <a\@pass.spf.test>\r\nTo: <alice\@example.org>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
    . "Message-ID: <$tag.$n\@pass.spf.test>\r\nSubject: $tag\r\n\r\nline one\r\n\r\n  indented\r\nReceived-SPF: in the body\r\nlast\r\n";
}
# the delivered file: exim's own fields, then ours, then the client's bytes
sub fields_after_exim {
  my ($file) = @_;
  my $text = slurp($file) // '';
  # exim's trace fields: Return-path, Envelope-to, Delivery-date, Received
  $text =~ s/\A(?:(?:Return-path|Envelope-to|Delivery-date|Received):.*?\r?\n(?![ \t]))+//s;
  return $text;
}

my $on = guard(opts => ['-E', 'spf', '-F', '2']);

subtest 'pass, none, neutral: accepted' => sub {
  like(mail_reply($on, 'client.example', '<a@pass.spf.test>'), qr/^250 /, 'pass: 250');
  like(mail_reply($on, 'client.example', '<a@nospf.spf.test>'), qr/^250 /, 'none: 250');
  like(mail_reply($on, 'client.example', '<a@neutral.spf.test>'), qr/^250 /, 'neutral: 250');
  wait_until(20, sub { grep { /helo=<client\.example> from=<a\@pass\.spf\.test> result=spf-accepted spf=pass$/ } lines($on) }, 'logged: spf=pass');
  wait_until(20, sub { grep { /from=<a\@nospf\.spf\.test> result=spf-accepted spf=none$/ } lines($on) }, 'logged: spf=none');
  wait_until(20, sub { grep { /from=<a\@neutral\.spf\.test> result=spf-accepted spf=neutral$/ } lines($on) }, 'logged: spf=neutral');
};

subtest 'fail: 550 5.7.23 with the explanation' => sub {
  like(mail_reply($on, 'client.example', '<bob@fail.spf.test>'), qr/^550 5\.7\.23 <bob\@fail\.spf\.test>: fail\.spf\.test sends no mail from \Q$ip\E\r?$/,
    'the exp= text, its macros expanded');
  like(mail_reply($on, 'client.example', '<bob@plain.spf.test>'), qr/^550 5\.7\.23 <bob\@plain\.spf\.test>: SPF validation failed/, 'no exp=: a text of our own');
  wait_until(20, sub { grep { /from=<bob\@fail\.spf\.test> result=spf-rejected spf=fail$/ } lines($on) }, 'logged: spf=fail');
};

subtest 'softfail and permerror: accepted by default, by policy otherwise' => sub {
  like(mail_reply($on, 'client.example', '<a@soft.spf.test>'), qr/^250 /, 'softfail: accepted by default');
  like(mail_reply($on, 'client.example', '<a@perm.spf.test>'), qr/^250 /, 'permerror: accepted by default');
  wait_until(20, sub { grep { /from=<a\@perm\.spf\.test> result=spf-accepted spf=permerror$/ } lines($on) }, 'logged: spf=permerror');
  my $strict = guard(opts => ['-E', 'spf', '-O', 'softfail=reject', '-O', 'permerror=reject']);
  like(mail_reply($strict, 'client.example', '<a@soft.spf.test>'), qr/^550 5\.7\.23 /, '-O softfail=reject: softfail 550 5.7.23');
  like(mail_reply($strict, 'client.example', '<a@perm.spf.test>'), qr/^550 5\.7\.24 /, '-O permerror=reject: permerror 550 5.7.24');
  my $defer = guard(opts => ['-E', 'spf', '-O', 'softfail=defer', '-O', 'permerror=defer']);
  like(mail_reply($defer, 'client.example', '<a@soft.spf.test>'), qr/^451 4\.7\.23 /, '-O softfail=defer: softfail 451 4.7.23');
  like(mail_reply($defer, 'client.example', '<a@perm.spf.test>'), qr/^451 4\.7\.24 /, '-O permerror=defer: permerror 451 4.7.24');
  wait_until(20, sub { grep { /from=<a\@soft\.spf\.test> result=spf-deferred spf=softfail$/ } lines($defer) }, 'logged: spf-deferred');
  for my $bad (['-O', 'softfail=maybe'], ['-O', 'permerror='], ['-O', 'reject'], ['-P', 'reject']) {
    my ($rc) = run_cmd(argv => [$bin, @$bad, 'true']);
    is($rc, 100, "@$bad: usage");
  }
};

subtest 'temperror: 451 4.7.24 within the deadline' => sub {
  my $t0 = time;
  like(mail_reply($on, 'client.example', '<a@temp.spf.test>'), qr/^451 4\.7\.24 /, 'an include never answered: 451 4.7.24, never a 5xx');
  cmp_ok(time - $t0, '<', 6, 'within -F 2');
  wait_until(20, sub { grep { /from=<a\@temp\.spf\.test> result=spf-deferred spf=temperror$/ } lines($on) }, 'logged: spf=temperror');
};

subtest 'the null sender: the HELO identity' => sub {
  like(mail_reply($on, 'helo-fail.spf.test', '<>'), qr/^550 5\.7\.23 /, 'a HELO name whose record fails the client: 550');
  like(mail_reply($on, 'helo-pass.spf.test', '<>'), qr/^250 /, 'a HELO name that passes: 250');
  like(mail_reply($on, 'helo-fail.spf.test', '<a@pass.spf.test>'), qr/^250 /, 'a sender: its own domain decides, not the HELO name');
  like(mail_reply($on, "[$ip]", '<>'), qr/^250 /, 'a literal HELO: none');
};

subtest 'skipped: RELAYCLIENT, AUTH, an OK sender' => sub {
  my $relay = guard(opts => ['-E', 'spf'], env => { RELAYCLIENT => '' });
  like(mail_reply($relay, 'client.example', '<a@plain.spf.test>'), qr/^250 /, 'RELAYCLIENT: not checked');
  my $mta = exim_child(auth => 1);
  my $auth = guard(mta => $mta, opts => ['-E', 'spf']);
  my $c = client($auth);
  $c->cmd('EHLO client.example');
  require MIME::Base64;
  like($c->cmd('AUTH PLAIN ' . MIME::Base64::encode_base64("\0" . $mta->auth_user . "\0" . $mta->auth_password, '')), qr/^235 /, 'authenticated');
  like($c->cmd('MAIL FROM:<a@plain.spf.test>'), qr/^250 /, 'after AUTH: not checked');
  $c->cmd('QUIT');
  my $ok = guard(opts => ['-E', 'spf', '-S', "$dir/s.cdb"]);
  like(mail_reply($ok, 'client.example', '<friend@fail.spf.test>'), qr/^250 /, 'an OK of the sender access list: not checked');
  like(mail_reply($ok, 'client.example', '<enemy@fail.spf.test>'), qr/^550 5\.7\.23 /, 'another sender of that domain: checked');
  ok(!grep({ /spf=/ } lines($relay)), 'no spf= for the relay client');
};

subtest 'the Received-SPF field, at the head of the data; the rest unchanged' => sub {
  my ($s, $mta) = guard(opts => ['-E', 'spf'], localname => 'mx.spf.test');
  my $data = message('pass');
  my ($r, $end) = deliver($s, 'client.example', '<a@pass.spf.test>', "$data.\r\n");
  like($r, qr/^250 /, 'MAIL');
  like($end, qr/^250 /, 'the data accepted');
  is(scalar($mta->wait_messages(1)), 1, 'delivered');
  my $after = fields_after_exim(($mta->messages)[0]);
  my $field = "Received-SPF: pass (mx.spf.test: domain of pass.spf.test designates $ip as permitted sender)\r\n"
    . "\tclient-ip=$ip; envelope-from=\"a\@pass.spf.test\";\r\n\thelo=client.example;\r\n\tidentity=mailfrom; receiver=mx.spf.test;\r\n"
    . "\tmechanism=\"ip4:$ip\";\r\n";
  is($after, $field . $data, 'the field first, then the client\'s bytes as sent') or diag $after;

  # a second transaction in the same session: a field of its own, once
  my $c = client($s);
  $c->cmd('EHLO helo-pass.spf.test');
  for my $from ('<a@soft.spf.test>', '<>') {
    like($c->cmd("MAIL FROM:$from"), qr/^250 /, "MAIL FROM:$from");
    like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT');
    like($c->cmd('DATA'), qr/^354 /, 'DATA');
    $c->send(message('two') . ".\r\n");
    like(($c->read_reply(20))[1], qr/^250 /, 'accepted');
  }
  $c->cmd('QUIT');
  is(scalar($mta->wait_messages(3)), 3, 'two more delivered');
  my @m = $mta->messages;
  my $soft = fields_after_exim($m[1]);
  like($soft, qr/\AReceived-SPF: softfail \(mx\.spf\.test: transitioning domain of soft\.spf\.test does not designate \Q$ip\E as permitted sender\)\r\n/,
    'softfail accepted, and marked');
  is(scalar(() = $soft =~ /^Received-SPF:/mg), 2, 'one field of ours (the other is the body\'s line)');
  my $null = fields_after_exim($m[2]);
  like($null, qr/\AReceived-SPF: pass .*\r\n\tclient-ip=\Q$ip\E; envelope-from="";\r\n\thelo=helo-pass\.spf\.test;\r\n\tidentity=helo;/s,
    'the null sender: identity=helo');

  # the RCPT lines carry spf= too
  wait_until(20, sub { grep { /rcpt=<alice\@example\.org> result=known delay=\S+ spf=softfail$/ } lines($s) }, 'the RCPT line carries spf=');
};

subtest 'warn-only: logged, marked, never refused' => sub {
  my ($w, $mta) = guard(opts => ['-W', 'spf']);
  my ($r, $end) = deliver($w, 'client.example', '<bob@fail.spf.test>', message('warn') . ".\r\n");
  like($r, qr/^250 /, 'fail under -W spf: 250');
  like($end, qr/^250 /, 'delivered');
  wait_until(20, sub { grep { /from=<bob\@fail\.spf\.test> result=spf-rejected dryrun=1 spf=fail$/ } lines($w) }, 'logged as would-refuse (dryrun=1)');
  is(scalar($mta->wait_messages(1)), 1, 'one message');
  like(fields_after_exim(($mta->messages)[0]), qr/\AReceived-SPF: fail /, 'the field says fail');
  like(mail_reply($w, 'client.example', '<a@temp.spf.test>'), qr/^250 /, 'temperror under -W spf: 250');
};

subtest 'off: nothing added, -E all does not name spf' => sub {
  my ($s, $mta) = guard(opts => ['-E', 'all']);
  my $data = message('off');
  my ($r, $end) = deliver($s, 'client.example', '<bob@plain.spf.test>', "$data.\r\n");
  like($r, qr/^250 /, '-E all: no SPF refusal');
  is(scalar($mta->wait_messages(1)), 1, 'delivered');
  is(fields_after_exim(($mta->messages)[0]), $data, 'the data as sent, no field');
};

subtest 'mxguard-report: the SPF words and results' => sub {
  my $log = "$dir/on.log";
  open my $fh, '>', $log or die; print {$fh} $on->log_text; close $fh;
  my ($rc, $out, $err) = run_cmd(argv => ["$top/report/mxguard-report", $log]);
  is($rc, 0, 'the report reads the log') or diag $err;
  like($out, qr/^ +\d+  rcptchecks\/spf-rejected$/m, 'spf-rejected counted') or diag $out;
  unlike($out, qr/malformed/i, 'no malformed line');
  like($out, qr/^SPF RESULTS PER DAY \(rcptchecks -E spf\)\n  day +count  result\n  undated +3  fail\n  undated +3  pass\n  undated +2  none\n/m, 'SPF results per day, most first') or diag $out;
  like($out, qr/^  undated +1  temperror$/m, '... temperror once');
};

done_testing;
