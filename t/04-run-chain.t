#!/usr/bin/perl
# The README's main job, package/run-chain: the whole chain answers on
# the port it was given, accepts mail for a listed recipient, refuses an
# unknown one (rcptchecks), a client listed in its blocklist (rblenv and
# rblsmtpd) and an early talker (smtp-delay), relays only for a recorded
# client (relaydb-check), and a TERM (or Ctrl-C) stops it and removes
# its temporary directory.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $ip = loopback_ip();
my $port = free_port($ip);
my $store = tmpdir();
my $job = start_cmd(argv => ["$top/package/run-chain", $ip, $port, $store], timeout => 60);
my $up = wait_until(10, sub { IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, Timeout => 1) }, 'run-chain listens');

SKIP: {
  skip 'run-chain did not start', 20 unless $up;
  my @S = ('--helo', 'client.mxguard.test', '--from', 'someone@mxguard.test');
  my ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--local-interface', '127.0.0.1', '--to', 'alice@example.org']);
  is($rc, 0, 'mail to a listed recipient is accepted') or diag $out;
  ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--local-interface', '127.0.0.1', '--tls', '--to', 'alice@example.org']);
  is($rc, 0, '... and inside TLS (swaks --tls: STARTTLS with the certificate made at start)') or diag $out;
  like($out, qr/^=== TLS started with cipher TLSv1\.3/m, '... TLS 1.3');
  ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--local-interface', '127.0.0.1', '--to', 'nobody@example.org']);
  like($out, qr/^<\*\* 550 5\.1\.1 <nobody\@example\.org>/m, 'an unknown recipient is refused by rcptchecks') or diag $out;
  ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--local-interface', '127.0.0.2', '--to', 'alice@example.org']);
  like($out, qr/451 127\.0\.0\.2 is listed in bl\.mxguard\.test/, 'a client in the blocklist is refused by rblsmtpd') or diag $out;
  my $c = smtp_connect($ip, $port, timeout => 10, local_ip => '127.0.0.1');
  $c->send("EHLO early\r\nMAIL FROM:<a\@b.test>\r\n");
  my ($said) = $c->read_all(5);
  like($said, qr/^4\d\d /m, 'an early talker is refused by smtp-delay') or diag $said;
  unlike($said, qr/Exim/, '... and never reaches exim');
  $c->close;
  # the envelope checks, as the lines run-chain prints show them
  for my $case (
    [['--helo', 'localhost', '--from', 'someone@mxguard.test'], qr/^<\*\* 504 5\.5\.2 /m, 'a HELO name not fully qualified'],
    [['--helo', 'client.mxguard.test', '--from', 'someone@localhost'], qr/^<\*\* 553 5\.1\.7 /m, 'a sender not fully qualified'],
    [['--helo', 'client.mxguard.test', '--from', 'someone@spam.mxguard.test'], qr/^<\*\* 550 5\.7\.1 .*listed by dbl\.mxguard\.test/m, 'a sender domain in the RHSBL'],
    [['--helo', 'client.mxguard.test', '--from', 'someone@nomail.mxguard.test'], qr/^<\*\* 550 5\.1\.8 /m, 'a sender domain without MX, A or AAAA'],
    [['--helo', 'client.mxguard.test', '--from', 'someone@nullmx.mxguard.test'], qr/^<\*\* 550 5\.1\.8 .*null MX/m, 'a sender domain with a null MX'],
    [['--helo', 'client.mxguard.test', '--from', 'blocked@mxguard.test'], qr/^<\*\* 550 5\.7\.1 .*demonstration/m, 'a sender the access list refuses'],
  ) {
    my ($opts, $re, $name) = @$case;
    ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@$opts, '--local-interface', '127.0.0.1', '--to', 'alice@example.org']);
    like($out, $re, "refused at MAIL: $name") or diag $out;
  }
  ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--to', 'someone@elsewhere.test']);
  like($out, qr/550 relay not permitted/, 'relaying is refused');
  ($rc) = run_cmd(argv => ["$top/relaydb/relaydb", '-d', $store, 'add', '127.0.0.1']);
  is($rc, 0, 'relaydb add 127.0.0.1');
  ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--local-interface', '127.0.0.1', '--to', 'someone@elsewhere.test']);
  is($rc, 0, 'a recorded client relays') or diag $out;
  kill 'TERM', $job->pid;
  my ($src, $printed, $err) = $job->finish(15);
  is($src, 0, 'TERM stops it cleanly') or diag $err;
  like($printed, qr/run-chain: stopped; mail delivered: 3/, 'it reports the three delivered messages');
  my ($work) = $printed =~ m{Mail lands in (\S+)/mail/new};
  ok($work && !-e $work, 'its temporary directory is gone');
  ok(!IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, Timeout => 1), 'nothing listens any more');
}
done_testing;
