#!/usr/bin/perl
# MXTest::start_tcpserver with the real tcpserver: the program it runs
# sees the client's address and the port, its stderr reaches the log,
# env is passed, IPv6 works, a taken port is reported, and stop() leaves
# neither tcpserver nor a connection's program running.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;

my $show = ['/bin/sh', '-c', 'echo "$PROTO $TCPREMOTEIP $TCPLOCALPORT $GREETING"; echo "child stderr $$" >&2'];

# a connection from $src (or the default source), returning the first line
sub first_line {
  my ($server, $src) = @_;
  my $c = smtp_connect($server->ip, $server->port, (defined $src ? (local_ip => $src) : ()));
  my $line = $c->read_line(5);
  $c->close;
  return $line;
}

subtest 'IPv4' => sub {
  my $srv = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { GREETING => 'hello', PATH => '/usr/bin:/bin' }, argv => $show);
  like($srv->ip, qr/^127\.\d+\.\d+\.\d+$/, 'a random loopback address');
  unlike($srv->ip, qr/^127\.0\.0\.1$/, '... not 127.0.0.1');
  ok($srv->port > 0, 'tcpserver picked a port: ' . $srv->port);
  my $src = loopback_ip();
  isnt($src, $srv->ip, 'loopback_ip never hands out the same address twice');
  is(first_line($srv, $src), "TCP $src " . $srv->port . " hello\n", 'TCPREMOTEIP is the dotted quad, TCPLOCALPORT the port, env passed');
  wait_until(5, sub { $srv->log_text =~ /^child stderr \d+$/m }, "the program's stderr in the log");
  like($srv->log_text, qr/^tcpserver: pid \d+ from \Q$src\E$/m, "tcpserver's own log lines too");
  $srv->stop;
  ok(!kill(0, $srv->pid), 'stop: tcpserver is gone');
  ok(!IO::Socket::IP->new(PeerHost => $srv->ip, PeerPort => $srv->port, Timeout => 2), 'stop: the port no longer accepts');
};

subtest 'explicit port; a taken port is reported' => sub {
  my $ip = loopback_ip();
  my $port = free_port($ip);
  my $srv = start_tcpserver(ip => $ip, port => $port, opts => ['-H', '-R', '-l0'], env => { GREETING => undef }, argv => $show);
  is($srv->port, $port, 'the requested port');
  is(first_line($srv), "TCP 127.0.0.1 $port \n", 'env => {VAR => undef} removes a variable');
  my $t0 = time;
  ok(!eval { start_tcpserver(ip => $ip, port => $port, argv => $show); 1 }, 'a second server on the same port fails');
  like($@, qr/did not start listening.*unable to bind/s, '... saying why');
  ok(time - $t0 < 5, '... at once');
  $srv->stop;
};

subtest 'stop kills the programs of open connections' => sub {
  my $srv = start_tcpserver(opts => ['-H', '-R', '-l0'], argv => ['/bin/sh', '-c', 'echo $$; exec sleep 60']);
  my $c = smtp_connect($srv->ip, $srv->port);
  my ($child) = ($c->read_line(5) // '') =~ /^(\d+)$/;
  ok($child && kill(0, $child), 'the connection runs a program: ' . ($child // 'none'));
  my $t0 = time;
  $srv->stop;
  ok(time - $t0 < 3, 'stop is quick');
  ok(!kill(0, $srv->pid), 'tcpserver is gone');
  wait_until(3, sub { !kill(0, $child) || (`ps -o stat= -p $child` =~ /Z/) }, "the connection's program gone");
  ok($c->is_closed(3), 'the client sees the connection close');
};

SKIP: {
  skip 'no usable ::1 on this machine', 1 unless IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0);
  subtest 'IPv6' => sub {
    my $srv = start_tcpserver(ip => '::1', opts => ['-R', '-H', '-l0'], env => { GREETING => 'six' }, argv => $show);
    is(first_line($srv), 'TCP6 ::1 ' . $srv->port . " six\n", 'TCPREMOTEIP is ::1, PROTO TCP6');
    $srv->stop;
    ok(!kill(0, $srv->pid), 'stop: tcpserver is gone');
  };
}

done_testing;
