#!/usr/bin/perl
# MXTest::exim_child and swaks with the real exim4 under the real
# tcpserver: a message to example.org is delivered with its body byte for
# byte (dot lines, long lines, 8-bit bytes), exim sees the client's
# address from the socket, a recipient elsewhere gets a 5xx, and five
# concurrent sessions are all delivered, with the panic log empty.
# Behind a link that runs exim on pipes (rcptchecks), exim4-smtpd (run
# as Debian-exim) gives exim the client's address, name and HELO from
# tcpserver's environment: each delivered message's Received line says
# so.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $exim = exim_child();
my $smtp = start_tcpserver(opts => ['-R', '-H', '-l0'], argv => $exim->argv);
my $client = loopback_ip();

# swaks leaves these bytes alone (no backslash-n, no %TOKEN%, no bare
# LF); it doubles the leading dots on the wire and exim undoes that; the
# last line has no CRLF because swaks appends "\r\n." itself
my $body = join "\r\n",
  'First line',
  '.a line starting with a dot',
  '..two dots',
  '.',
  ' . not the end',
  'x' x 990,
  join('', map { chr } 0x80 .. 0xff) . " \t8-bit, tab, trailing space ",
  'last line';
my $message = "From: sender\@other.test\r\nTo: someone\@example.org\r\nSubject: harness\r\n\r\n$body";

my ($rc, $transcript) = swaks(server => $smtp, data => $message,
  opts => ['--to', 'someone@example.org', '--from', 'sender@other.test', '--local-interface', $client, '--timeout', '10']);
is($rc, 0, 'swaks: message accepted') or diag $transcript;
like($transcript, qr/^<-  250 OK id=\S+/m, '... 250 after DATA');
my ($file) = $exim->wait_messages(1, 20);
ok($file, 'one message delivered' . ($file ? " ($file)" : ''));
my ($got) = $exim->message_bodies;
ok(defined $got && $got eq "$body\r\n", 'the delivered body is byte-identical to what was sent')
  or diag "got:\n" . ($got // 'nothing');
open my $fh, '<', $file or die "$file: $!";
my $received = <$fh>;
like($received, qr/^Received: from \[\Q$client\E\] \(helo=\S+\)/, "exim saw the client's address ($client) on the socket");

($rc, $transcript) = swaks(server => $smtp, opts => ['--to', 'user@other.test', '--from', 'sender@other.test', '--timeout', '10']);
isnt($rc, 0, 'a recipient at other.test: swaks fails');
like($transcript, qr/^<\*\* 550 relay not permitted/m, '... with a 5xx from exim');
($rc, $transcript) = swaks(server => $smtp, opts => ['--to', 'b@example.net', '--from', '', '--timeout', '10']);
is($rc, 0, 'example.net accepted, null sender') or diag $transcript;
$exim->wait_messages(2, 20);

# five sessions at once
my @jobs = map {
  start_cmd(argv => ['/usr/bin/swaks', '--server', $smtp->ip, '--port', $smtp->port, '--timeout', '20',
    '--to', "user$_\@example.org", '--from', 'a@other.test', '--body', "concurrent $_"])
} 1 .. 5;
my @rc = map { ($_->finish(30))[0] } @jobs;
is_deeply(\@rc, [0, 0, 0, 0, 0], 'five concurrent sessions accepted');
is(scalar(my @all = $exim->wait_messages(7, 20)), 7, 'all delivered');
# swaks ends a --body with empty lines of its own
my %seen = map { /^concurrent (\d)(?:\r\n)+\z/ ? ($1 => 1) : () } $exim->message_bodies;
is_deeply([sort keys %seen], [1 .. 5], 'each concurrent message arrived once, intact');

$smtp->stop;
like($exim->log_text, qr/<= sender\@other\.test H=\(\S+\) \[\Q$client\E\]/, "exim's logs are readable");
is($exim->panic_text, '', "exim's panic log stays empty (-C, run by root)");

# behind a link that runs exim on pipes (rcptchecks), as at the end of
# the chain: examples/service/smtpd/exim4-smtpd, run as exim's own user,
# gives it the client's address and name from tcpserver's environment
my $chain = exim_child();
my $peer = loopback_ip();
my $dns = start_tinydns(data => ".127.in-addr.arpa::\n.mxguard.test::\n=peer.mxguard.test:$peer\n");
my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n");
my $behind = start_tcpserver(opts => ['-R', '-l0'], env => { DNSCACHEIP => $dns->ip },
  argv => [top() . '/rcptchecks/rcptchecks', '-c', $cdb, @{ $chain->chain_argv }]);
for my $n (1 .. 3) {
  ($rc, $transcript) = swaks(server => $behind, opts => ['--local-interface', $peer, '--ehlo', "helo$n.test",
    '--from', 'sender@other.test', '--to', 'alice@example.org', '--timeout', '10']);
  is($rc, 0, "behind rcptchecks, session $n: accepted") or diag $transcript;
}
my @files = $chain->wait_messages(3, 20);
my @received = map { $chain->received($_) // '' } @files;
is(scalar(grep { /^Received: from peer\.mxguard\.test\s+\(\[\Q$peer\E\] helo=helo\d\.test\)\s+by mx\.example\.org with esmtp /s } @received), 3,
  "each message's Received line names the client ($peer), its name and its HELO, received over SMTP")
  or diag join "\n", @received;
unlike("@received", qr/ident=|local-esmtp|from root/, '... not a local submission, no ident') or diag "@received";
like($chain->log_text, qr/<= sender\@other\.test H=peer\.mxguard\.test \(helo1\.test\) \[\Q$peer\E\] P=esmtp /,
  "exim's log names the client too");
is($chain->panic_text, '', "exim's panic log stays empty after three sessions as Debian-exim with -C") or diag $chain->panic_text;
$behind->stop;

done_testing;
