#!/usr/bin/perl
# MXTest::start_tcpserver with the real tcpserver: the program it runs
# sees the client's address and the port, its stderr reaches the log,
# env is passed, IPv6 works, a taken port is reported, free_port's port
# stays reserved for the test, and stop() leaves
# neither tcpserver nor a connection's program running.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time);
use Fcntl qw(:flock);
use POSIX ();
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

subtest 'free_port reserves its port for the whole test' => sub {
  my $ip = loopback_ip();
  my $port = free_port($ip);
  my ($low) = split ' ', `cat /proc/sys/net/ipv4/ip_local_port_range`;
  ok($port < $low && $port > 1024, "$port: below the kernel's ephemeral range (from $low), never a port-0 bind or a source port");
  my %mine = map { free_port($ip) => 1 } 1 .. 20;
  ok(!$mine{$port} && keys %mine == 20, 'never handed out twice in one test');
  # another test process trying the same port finds it locked
  open my $fh, '>>', "/tmp/mxtest-ports/$port" or die "/tmp/mxtest-ports/$port: $!";
  ok(!flock($fh, LOCK_EX | LOCK_NB), 'held by a lock no other process can take');
  close $fh;
  my $pid = fork // die "fork: $!";
  if (!$pid) { exec '/bin/sh', '-c', "exec 9>>/tmp/mxtest-ports/$port; /usr/bin/flock -n 9" or POSIX::_exit(127) }
  waitpid $pid, 0;
  isnt($? >> 8, 0, '... not even by a program the test runs (the lock is not inherited over exec)');
  # a server stopped and started again gets its port back
  my $srv = start_tcpserver(ip => $ip, port => $port, opts => ['-H', '-R', '-l0'], argv => $show);
  $srv->stop;
  ok(open($fh, '>>', "/tmp/mxtest-ports/$port") && !flock($fh, LOCK_EX | LOCK_NB), 'still reserved after its server stopped');
  $srv = start_tcpserver(ip => $ip, port => $port, opts => ['-H', '-R', '-l0'], argv => $show);
  is($srv->port, $port, 'the restarted server binds it again');
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
