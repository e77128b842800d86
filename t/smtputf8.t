#!/usr/bin/perl
# SMTPUTF8 (RFC 6531, 6532) end to end. rcptchecks in front of the real
# exim4 -bs (which offers SMTPUTF8): SMTPUTF8 is offered exactly when
# the server offers it; MAIL's SMTPUTF8 parameter passes; a UTF-8
# address is taken only in a transaction that declared it (553 5.6.7
# otherwise, RFC 6531 3.7.4.1), judged as the server judges it (unknown:
# 550), a domain in U-labels and in A-labels one domain; bytes that are
# not UTF-8 are refused 501 and never reach the server. Then real
# senders (Postfix, exim, Python's smtplib) through tcpserver, smtp-tls
# and rcptchecks: UTF-8 mail arrives byte-identical, never downgraded.
# Last, a server without SMTPUTF8: the chain offers none either, and
# the sender, not the chain, decides (Postfix bounces with 5.6.7).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;
use MXSenders;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
my $tls = "$top/smtp-tls/smtp-tls";
my $make = "$top/rcptchecks/rcptchecks-make";
plan skip_all => 'not built' unless -x $bin && -x $make && -x $tls;

my $DELIA = "d\xc3\xa9lia\@example.org";          # délia@ (UTF-8 bytes)
my $ZOE   = "zo\xc3\xab\@example.org";            # zoë@: not a mailbox
my $JORG  = "j\xc3\xb6rg\@b\xc3\xbccher.example"; # jörg@bücher.example
my $JORG_A = "j\xc3\xb6rg\@xn--bcher-kva.example";
my $JORG_CAPS = "j\xc3\xb6rg\@B\xc3\xbcCHER.example";
my $SENDER = "s\xc3\xa9n\@other.test";

my $dir = tmpdir();
my $cdb = "$dir/recipients.cdb";
ok(eval { make_cdb(recipients => "example.org\nb\xc3\xbccher.example\nalice\@example.org\n$DELIA\n$JORG\n", $cdb) },
  'rcptchecks-make takes UTF-8 addresses and a U-label domain') or diag $@;
# exim compares domains byte for byte: both spellings are its own
my $mta = exim_child(local_domains => "example.org : xn--bcher-kva.example : b\xc3\xbccher.example");

# one session through rcptchecks and exim; the replies, one per line
our $RELAY;   # RELAYCLIENT for session(), or undef
sub session {
  my ($server, @lines) = @_;
  my $script = join "\r\n", 'EHLO client.test', @lines, 'QUIT', '';
  my ($rc, $out, $err) = run_cmd(argv => [$bin, '-c', $cdb, '-u', '0', '-d', '0', @{ $server->argv }],
    env => { TCPREMOTEIP => '127.0.0.1', RELAYCLIENT => $RELAY, RBLLATE => undef }, stdin => $script, timeout => 30);
  return ($out, $err);
}

# the last line of each reply: the greeting's, the EHLO answer's, then
# one per command
sub replies { my ($out) = @_; return grep { !/^\d{3}-/ } split /\r\n/, $out }

my $log = sub { slurp($mta->dir . '/log/mainlog') // '' };
# exim's delivery line: "=> local <address>" for a local delivery
sub arrived { my ($addr, $qid) = @_; $qid //= '\S+'; return qr/^\S+ \S+ $qid => (?:\S+ <)?\Q$addr\E[> ]/m }

{
  my ($out) = session($mta);
  like($out, qr/^250-SMTPUTF8\r$/m, 'exim offers SMTPUTF8, and so does rcptchecks');
}
{
  my ($out, $err) = session($mta, "MAIL FROM:<$SENDER> SMTPUTF8", "RCPT TO:<$DELIA>", "RCPT TO:<$ZOE>",
    "RCPT TO:<$JORG_A>", "RCPT TO:<$JORG_CAPS>", 'DATA', "Subject: caf\xc3\xa9", '', 'body', '.');
  my @r = replies($out);
  like($r[2], qr/^250 /, 'MAIL with a UTF-8 sender and SMTPUTF8: 250');
  like($r[3], qr/^250 /, 'a known UTF-8 recipient: 250');
  like($r[4], qr/^550 /, 'an unknown UTF-8 recipient: 550 from rcptchecks');
  like($r[5], qr/^250 /, 'jörg@ at the A-label of the U-label domain listed: the same domain, 250');
  like($r[6], qr/^250 /, 'the U-label domain with ASCII capitals: the same domain');
  like($r[7], qr/^354 /, 'DATA');
  like($r[8], qr/^250 /, 'the message is taken') or diag $out, $err;
  ok(MXTest::wait_until(20, sub { $log->() =~ arrived($DELIA) }), 'exim delivers to délia@ (UTF-8, no A-label)')
    or diag $log->();
  unlike($log->(), qr/\Q$ZOE\E/, 'exim never saw zoë@');
}
{
  my ($out) = session($mta, "MAIL FROM:<sender\@other.test>", "RCPT TO:<$DELIA>", 'RSET',
    "MAIL FROM:<$SENDER>");
  my @r = replies($out);
  like($r[3], qr/^553 5\.6\.7 /, 'a UTF-8 recipient in a transaction without SMTPUTF8: 553 5.6.7 (RFC 6531 3.7.4.1)');
  like($r[5], qr/^553 5\.6\.7 /, 'a UTF-8 sender without SMTPUTF8: 553 5.6.7');
}
# the declaration lasts one transaction: RSET and the end of the data
# end it, and a MAIL without SMTPUTF8 after them has none
{
  my ($out) = session($mta, "MAIL FROM:<s\@other.test> SMTPUTF8", 'RSET', "MAIL FROM:<s\@other.test>", "RCPT TO:<$DELIA>",
    'RSET', "MAIL FROM:<s\@other.test> SMTPUTF8", "RCPT TO:<$DELIA>", 'DATA', 'Subject: x', '', 'x', '.',
    "MAIL FROM:<s\@other.test>", "RCPT TO:<$DELIA>");
  my @r = replies($out);
  like($r[5], qr/^553 5\.6\.7 /, 'SMTPUTF8, RSET, MAIL without it: a UTF-8 recipient gets 553 5.6.7');
  like($r[8], qr/^250 /, '... and after a new MAIL with it, 250');
  like($r[12], qr/^553 5\.6\.7 /, 'after the end of the data, a MAIL without it: 553 5.6.7') or diag $out;
}
{
  my ($out) = session($mta, "MAIL FROM:<s\@other.test> SMTPUTF8", 'RSET', "RCPT TO:<$DELIA>");
  my @r = replies($out);
  like($r[4], qr/^553 5\.6\.7 /, 'SMTPUTF8, RSET, a UTF-8 RCPT with no MAIL: the declaration is gone (553 5.6.7)');
}
{
  my ($out) = session($mta, "MAIL FROM:<s\@other.test> SMTPUTF8", "RCPT TO:<d\xc3lia\@example.org>",
    "RCPT TO:<d\xc0\xaelia\@example.org>", "RCPT TO:<d\xed\xa0\x80lia\@example.org>", "RCPT TO:<a\@b\xc3\xbc\xc3.example>");
  my @r = replies($out);
  like($r[$_], qr/^501 /, "bytes that are not UTF-8 (" . ($_ - 2) . "): 501") for 3 .. 6;
  unlike($log->(), qr/d\xc3lia|\xc0\xae|\xed\xa0/, 'none of them reached exim');
}

# a relay client: its envelope goes to the server as written, but what
# no server may be given (RFC 6531 3.7.4.1) is refused all the same
{
  local $RELAY = '';
  my $other = "zo\xc3\xab\@elsewhere.test";
  my ($out) = session($mta, "MAIL FROM:<s\@other.test>", "RCPT TO:<$other>", "RCPT TO:<d\xc3lia\@elsewhere.test>", 'RSET',
    "MAIL FROM:<s\xc3\@other.test> SMTPUTF8", "MAIL FROM:<$SENDER> SMTPUTF8", "RCPT TO:<$other>", "RCPT TO:<d\xc3lia\@elsewhere.test>");
  my @r = replies($out);
  like($r[3], qr/^553 5\.6\.7 /, 'relay client: a UTF-8 recipient without SMTPUTF8: 553 5.6.7');
  like($r[4], qr/^501 /, 'relay client: a recipient that is not UTF-8: 501');
  like($r[6], qr/^501 /, 'relay client: a sender that is not UTF-8: 501');
  like($r[7], qr/^250 /, 'relay client: a UTF-8 sender with SMTPUTF8 goes to the server');
  like($r[8], qr/^250 /, 'relay client: and a UTF-8 recipient in that transaction (relayed by exim for a relay client)');
  like($r[9], qr/^501 /, 'relay client: a recipient that is not UTF-8 still 501 inside it');
  unlike($log->(), qr/d\xc3lia\@elsewhere|s\xc3\@other/, 'exim never saw the bytes that are not UTF-8');
}

# a server without SMTPUTF8: nothing of it is offered, asked or passed
my $plain = exim_receiver(smtputf8 => 0, local_domains => 'example.org');
{
  my ($out) = session($plain, "MAIL FROM:<s\@other.test> SMTPUTF8", "MAIL FROM:<s\@other.test>", "RCPT TO:<$DELIA>");
  unlike($out, qr/SMTPUTF8/, 'a server without SMTPUTF8: rcptchecks does not offer it');
  my @r = replies($out);
  like($r[2], qr/^555 /, 'MAIL ... SMTPUTF8 to it: 555 (not offered)');
  like($r[4], qr/^553 5\.6\.7 /, 'a UTF-8 recipient: 553 5.6.7');
}

# real senders through tcpserver, smtp-tls and rcptchecks to exim
my ($cert, $key) = make_cert($dir, 'mx.example.org');
sub chain {
  my ($server) = @_;
  return start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef },
    argv => [$tls, '-c', $cert, '-k', $key, $bin, '-c', $cdb, '-u', '0', '-d', '0', @{ $server->argv }]);
}
my $front = chain($mta);

my $n = 0;
sub message {
  my (%a) = @_;
  my $id = sprintf 'u%d.%d', $$, ++$n;
  return ($id, "From: <$a{from}>\nTo: <$a{to}>\nSubject: $a{subject}\nDate: Mon, 7 Dec 2026 01:00:00 +0000\n"
    . "Message-ID: <$id\@client.mxtest.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    . "Content-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n.a dot\n");
}
for my $level (qw(none may encrypt)) {
  my $pf = postfix_sender(host => $front->ip, port => $front->port, tls => $level);
  my @sent;
  for my $case ([$SENDER, $DELIA, 'UTF-8 sender and recipient'], ['alice@other.test', 'alice@example.org', "raw UTF-8 Subject caf\xc3\xa9"]) {
    my ($id, $text) = message(from => $case->[0], to => $case->[1], subject => $case->[2]);
    my ($rc, $o) = $pf->sendmail($case->[0], [$case->[1]], $text);
    is($rc, 0, "Postfix ($level) takes: $case->[2]") or diag $o;
    push @sent, [$id, $text, $case->[2]];
  }
  $pf->wait_delivered(2, 30);
  for my $s (@sent) {
    my $raw = delivered($mta, $s->[0]);
    my $got = untraced($raw);
    ok(defined $got, "Postfix ($level): $s->[2] delivered") or diag $pf->maillog;
    # smtp-tls's trace field says whether the hop was encrypted
    my $tls_trace = ($raw // '') =~ /^Received: from .*\r?\n\s+by \S+ \(smtp-tls\) with ESMTPS tls TLS_/m;
    ok($level eq 'none' ? !$tls_trace : $tls_trace, "Postfix ($level): " . ($level eq 'none' ? 'in clear' : 'inside STARTTLS') . ", as the trace says");
    is($got, crlf($s->[1]), "Postfix ($level): $s->[2] byte-identical") if defined $got;
  }
  my ($id, $text) = message(from => $SENDER, to => $ZOE, subject => 'unknown');
  $pf->sendmail($SENDER, [$ZOE], $text);
  my ($b) = grep { $_->{status} eq 'bounced' } $pf->wait_status('bounced', 1, 30);
  like($b->{said} // '', qr/\bsaid: 550 5\.1\.1 /, "Postfix ($level): an unknown UTF-8 recipient bounces with rcptchecks' 550");
  $pf->stop;
}
{
  my $ex = exim_sender(host => $front->ip, port => $front->port);
  my ($id, $text) = message(from => $SENDER, to => $DELIA, subject => 'from exim');
  $ex->sendmail($SENDER, [$DELIA], $text);
  $ex->wait_delivered(1, 30);
  my $got = delivered($mta, $id);
  ok(defined $got, 'exim as the sender: delivered');
  my ($qid) = $log->() =~ /^\S+ \S+ (\S+) <= .* id=\Q$id\E\@/m;
  like($log->(), arrived($DELIA, $qid // 'none'), 'délia@ arrives as délia@, not xn--');
  unlike($log->(), qr/xn--dlia/, 'no A-label local part anywhere');
  is($ex->paniclog // '', '', "the sending exim's panic log is empty");
}
{
  my ($id, $text) = message(from => $SENDER, to => $DELIA, subject => 'smtplib');
  my ($ok, $error) = smtplib_send(host => $front->ip, port => $front->port, from => $SENDER, to => [$DELIA],
    message => $text, smtputf8 => 1, starttls => 1);
  ok($ok, 'smtplib with SMTPUTF8 inside STARTTLS: accepted') or diag $error;
}

# the server behind offers no SMTPUTF8: Postfix bounces (5.6.7) what
# needs it, and the chain rewrote nothing
{
  my $front2 = chain($plain);
  my $pf = postfix_sender(host => $front2->ip, port => $front2->port);
  my ($id, $text) = message(from => 'a@other.test', to => $DELIA, subject => 'no smtputf8');
  $pf->sendmail('a@other.test', [$DELIA], $text);
  my ($b) = grep { $_->{status} eq 'bounced' } $pf->wait_status('bounced', 1, 30);
  like($b->{dsn} // '', qr/^5\.6\.7$/, 'a server without SMTPUTF8 behind the chain: Postfix bounces 5.6.7, nothing downgraded');
  $pf->stop;
}
done_testing;
