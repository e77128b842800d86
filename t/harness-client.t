#!/usr/bin/perl
# MXTest::smtp_connect against real servers: a pipelined EHLO/MAIL/RCPT/
# DATA in one write to exim gets its replies read in order, multi-line
# included; read_all sees EOF after QUIT; timeouts are honoured against
# a server that never answers; a closed connection is seen; writing into
# it does not kill the test; IPv6 works.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;

my $exim = exim_child();
my $smtp = start_tcpserver(opts => ['-R', '-H', '-l0'], argv => $exim->argv);

subtest 'pipelined conversation with exim' => sub {
  my $src = loopback_ip();
  my $c = smtp_connect($smtp->ip, $smtp->port, local_ip => $src);
  $c->expect(qr/\A220 mx\.example\.org ESMTP Exim [^\r\n]*\r\n\z/, 5, 'greeting, one line, CRLF');
  ok($c->send("EHLO client.test\r\nMAIL FROM:<a\@other.test>\r\nRCPT TO:<u\@example.org>\r\nDATA\r\n"),
    'four commands in a single write');
  my ($code, $text) = $c->read_reply(5);
  is($code, 250, 'EHLO: 250');
  like($text, qr/\A250-mx\.example\.org Hello client\.test \[\Q$src\E\]\r\n(250-[^\r\n]*\r\n)*250 [^\r\n]*\r\n\z/,
    '... the whole multi-line reply, each line CRLF, the client address as seen by exim');
  like($text, qr/^250-PIPELINING\r$/m, '... which advertises PIPELINING');
  is_deeply([$c->read_reply(5)], [250, "250 OK\r\n"], 'MAIL: 250');
  is_deeply([$c->read_reply(5)], [250, "250 Accepted\r\n"], 'RCPT: 250');
  ($code) = $c->read_reply(5);
  is($code, 354, 'DATA: 354');
  $c->send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n");
  $c->expect(qr/\A250 OK id=/, 5, 'message accepted');
  $c->expect(qr/\A221 /, 5, 'QUIT: 221');
  my ($rest, $eof) = $c->read_all(5);
  is($rest, '', 'nothing after 221');
  ok($eof, 'read_all saw EOF after QUIT');
  is($c->read_line(1), undef, 'read_line after EOF: undef');
  $exim->wait_messages(1, 20);
  is(($exim->message_bodies)[0], "body\r\n", 'the message was delivered');
};

subtest 'read_line splits a reply that comes in pieces' => sub {
  # the server's pauses split its writes: they are the case, not a wait
  my $srv = start_tcpserver(argv => ['/bin/sh', '-c', 'printf "250-one\r\n"; sleep 0.3; printf "250"; sleep 0.3; printf " two\r\nrest"']);
  my $c = smtp_connect($srv->ip, $srv->port);
  is_deeply([$c->read_reply(5)], [250, "250-one\r\n250 two\r\n"], 'a reply in three writes, read whole');
  is($c->read_line(2), undef, 'an unterminated line is not a line');
  is_deeply([$c->read_all(2)], ['rest', 1], '... read_all returns it, with EOF');
  $srv->stop;
};

subtest 'timeouts against a server that never answers' => sub {
  my $srv = start_tcpserver(argv => ['/bin/sleep', '30']);
  # a connect timeout of 4 s, well apart from the short ones: the upper
  # bounds below leave a loaded machine room and still stay under the
  # 4 s a timeout argument that was ignored would take
  my $c = smtp_connect($srv->ip, $srv->port, timeout => 4);
  my $t0 = time;
  is($c->read_line(1), undef, 'read_line: undef');
  my $took = time - $t0;
  ok($took >= 0.9 && $took < 3, sprintf '... after the 1 s timeout (%.2f s)', $took);
  $t0 = time;
  my ($code, $text) = $c->read_reply(0.5);
  ok(!defined $code && $text eq '', 'read_reply: nothing');
  $took = time - $t0;
  ok($took >= 0.4 && $took < 2.5, sprintf '... after 0.5 s (%.2f s)', $took);
  is_deeply([$c->read_all(1)], ['', 0], 'read_all: no bytes, no EOF');
  ok(!$c->is_closed(0.5), 'is_closed: no');
  $t0 = time;
  is($c->read_line, undef, 'read_line without a timeout uses the connect timeout');
  $took = time - $t0;
  ok($took >= 3.9 && $took < 6, sprintf '... 4 s (%.2f s)', $took);
  $srv->stop;    # kills sleep, which holds the connection
  ok($c->is_closed(3), 'is_closed: yes, once the server is stopped');
};

subtest 'a server that hangs up' => sub {
  my $srv = start_tcpserver(argv => ['/bin/sh', '-c', 'printf "554 go away\r\n"']);
  my $c = smtp_connect($srv->ip, $srv->port);
  $c->expect(qr/\A554 go away\r\n\z/, 5, 'a 554 greeting');
  ok($c->is_closed(5), 'then the connection closes');
  my $t0 = time;
  ok(!$c->send('x' x 1_000_000, 5), 'writing a megabyte into it fails ...');
  ok(time - $t0 < 5, '... at once, and the test lives on (no SIGPIPE)');
  $c->close;
  $srv->stop;
};

SKIP: {
  skip 'no usable ::1 on this machine', 1 unless IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0);
  subtest 'IPv6' => sub {
    my $smtp6 = start_tcpserver(ip => '::1', opts => ['-R', '-H', '-l0'], argv => $exim->argv);
    my $c = smtp_connect('::1', $smtp6->port);
    $c->expect(qr/\A220 /, 5, 'greeting over ::1');
    $c->sendline('EHLO six.test');
    $c->expect(qr/\A250-mx\.example\.org Hello six\.test \[::1\]\r\n/, 5, 'exim sees ::1');
    $c->sendline('QUIT');
    $c->expect(qr/\A221 /, 5, 'QUIT');
    ok($c->is_closed(5), 'closed');
    $smtp6->stop;
  };
}

$smtp->stop;
done_testing;
