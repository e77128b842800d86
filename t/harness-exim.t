#!/usr/bin/perl
# MXTest::exim_child and swaks with the real exim4 under the real
# tcpserver: a message to example.org is delivered with its body byte for
# byte (dot lines, long lines, 8-bit bytes), exim sees the client's
# address from the socket, a recipient elsewhere gets a 5xx, and five
# concurrent sessions are all delivered.
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
like($exim->log_text, qr/exim user lost privilege for using -C option/, "exim's logs are readable (and say why -C is harmless here)");

done_testing;
