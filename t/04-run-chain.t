#!/usr/bin/perl
# The README's main job, package/run-chain: the whole chain, smtp-screen
# in front, answers on the port it was given after smtp-screen's teaser
# and wait (one greeting: the teaser, then the server's 220), accepts
# mail for a listed recipient, refuses an unknown one (rcptchecks), a
# client listed in its blocklist (smtp-screen asks it, rblsmtpd refuses) and an early
# talker (smtp-screen itself, logged), relays only for a recorded client
# (relaydb-check), and a TERM (or Ctrl-C) stops it and removes its
# temporary directory.
# Its resolver is a dnscache that answers its own zones from its tinydns
# and forwards every other name to the system's resolvers: here
# MXGUARD_RESOLVERS, a second tinydns on 127/8 serving example.net (MX
# and A), so a sender at example.net is not deferred. The implicit TLS
# port it prints runs the classic chain (tcpserver, smtp-delay): it
# takes mail (swaks --tlsc) and refuses a listed client inside TLS.
# exim, told the client by exim4-smtpd, writes its address and HELO in
# each delivered message's Received line with the name smtp-screen or
# tcpserver found (dnscache's localhost), and its panic log stays empty.
# smtp-screen's wait is its default for a client with a confirmed name,
# 1 s.
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
chmod 0755, $store or die "chmod $store: $!";    # the chain runs as Debian-exim
# "the system's resolver": the only server outside run-chain's zones
my $upstream = start_tinydns(data => join '', map { "$_\n" }
  '.example.net::', '@example.net::mx.example.net', '+mx.example.net:127.0.0.25');
my $job = start_cmd(argv => ["$top/package/run-chain", $ip, $port, $store], timeout => 300,
  env => { MXGUARD_RESOLVERS => $upstream->ip });
# 60 s: run-chain makes its keys and certificates (openssl req rsa:2048
# and more) before it listens, tens of seconds on a loaded machine
my $up = wait_until(60, sub { IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, Timeout => 1) }, 'run-chain listens');
# what it printed so far (MXRun's file for its standard output)
my $printed_now = sub { slurp($job->{out}) // '' };
my ($tlsport, $work);
wait_until(30, sub { ($tlsport) = $printed_now->() =~ /^and with implicit TLS \(SMTPS\) on \Q$ip\E port (\d+)$/m; $tlsport },
  'it prints its implicit TLS port');
($work) = $printed_now->() =~ m{Mail lands in (\S+)/mail/new};

SKIP: {
  skip 'run-chain did not start', 33 unless $up;
  my @S = ('--helo', 'client.mxguard.test', '--from', 'someone@mxguard.test');
  my ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--local-interface', '127.0.0.1', '--to', 'alice@example.org']);
  is($rc, 0, 'mail to a listed recipient is accepted') or diag $out;
  like($out, qr/^<-  220-mx\.example\.org\r?\n<-  220 mx\.example\.org ESMTP Exim/m,
    "... after smtp-screen's teaser, exim's 220 ending the greeting") or diag $out;
  is(scalar(() = $out =~ /^<-  220 /mg), 1, '... one greeting');
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
  like($said, qr/^451 4\.7\.1 /m, 'an early talker is refused by smtp-screen') or diag $said;
  unlike($said, qr/Exim/, '... and never reaches exim');
  $c->close;
  ok(wait_until(10, sub { ((slurp($job->{out}) // '') . (slurp($job->{err}) // '')) =~ /^smtp-screen: info: pid \d+ ip 127\.0\.0\.1 .*pregreet=fail .*result=refused/m },
    'the refusal logged'), "... smtp-screen logs it (pregreet=fail result=refused)");
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
  # DNS: its own zones through the dnscache, other names from upstream
  my %dns = (DNSCACHEIP => '127.53.0.2');
  my ($drc, $dout) = run_cmd(argv => ['/usr/bin/dnsip', 'mx.mxguard.test'], env => \%dns, timeout => 20);
  like($dout, qr/^127\.0\.0\.1\s*$/, 'its dnscache answers its own zone (mx.mxguard.test)');
  ($drc, $dout) = run_cmd(argv => ['/usr/bin/dnsname', '127.0.0.3'], env => \%dns, timeout => 20);
  like($dout, qr/^dsl-127-0-0-3\.dyn\.mxguard\.test\s*$/, '... and its reverse zone');
  ($drc, $dout) = run_cmd(argv => ['/usr/bin/dnsmx', 'example.net'], env => \%dns, timeout => 20);
  like($dout, qr/^0 mx\.example\.net\s*$/, '... and forwards other names to MXGUARD_RESOLVERS (example.net MX)');
  ($rc, $out) = swaks(ip => $ip, port => $port, opts => ['--helo', 'client.mxguard.test', '--from', 'someone@example.net',
    '--local-interface', '127.0.0.1', '--to', 'alice@example.org']);
  is($rc, 0, 'a sender at a domain outside its zones (example.net, from the upstream resolver) is accepted') or diag $out;
  unlike($out, qr/^<\*\* 4/m, '... not deferred');

  # implicit TLS: the handshake first, then the same chain
  ok($tlsport && $tlsport != $port, "an implicit TLS port is printed ($tlsport)");
  ($rc, $out) = swaks(ip => $ip, port => $tlsport, opts => [@S, '--local-interface', '127.0.0.1', '--tlsc', '--to', 'bob@example.org']);
  is($rc, 0, 'implicit TLS: swaks --tlsc delivers') or diag $out;
  like($out, qr/^=== TLS started with cipher TLSv1\.3/m, '... TLS 1.3 from the first byte');
  like($out, qr/^<~  220 /m, '... the greeting inside TLS');
  ($rc, $out) = swaks(ip => $ip, port => $tlsport, opts => [@S, '--local-interface', '127.0.0.2', '--tlsc', '--to', 'alice@example.org']);
  like($out, qr/^<~\* 451 127\.0\.0\.2 is listed in bl\.mxguard\.test/m, '... a listed client is refused by rblsmtpd inside TLS') or diag $out;

  # the trace exim wrote: the client, not a local submission
  my @mail = $work ? sort glob("$work/mail/new/*") : ();
  is(scalar @mail, 4, 'four messages delivered so far');
  my @received = map { (slurp($_) // '') =~ /\A(Received:.*?\n)(?!\s)/s ? $1 : '' } @mail;
  is(scalar(grep { /^Received: from localhost\s+\(\[127\.0\.0\.1\] helo=client\.mxguard\.test\)\s+by mx\.example\.org with esmtp / } @received),
    4, "through smtp-screen (three) and tcpserver (one): each Received line names the client (127.0.0.1, dnscache's localhost, confirmed) and its HELO") or diag join '', @received;
  is(slurp("$work/log/paniclog") // '', '', "exim's panic log is empty") if $work;

  ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--to', 'someone@elsewhere.test']);
  like($out, qr/550 relay not permitted/, 'relaying is refused');
  ($rc) = run_cmd(argv => ["$top/relaydb/relaydb", '-d', $store, 'add', '127.0.0.1']);
  is($rc, 0, 'relaydb add 127.0.0.1');
  ($rc, $out) = swaks(ip => $ip, port => $port, opts => [@S, '--local-interface', '127.0.0.1', '--to', 'someone@elsewhere.test']);
  is($rc, 0, 'a recorded client relays') or diag $out;
  kill 'TERM', $job->pid;
  my ($src, $printed, $err) = $job->finish(15);
  is($src, 0, 'TERM stops it cleanly') or diag $err;
  like($printed, qr/run-chain: stopped; mail delivered: 5/, 'it reports the five delivered messages');
  ok($work && !-e $work, 'its temporary directory is gone');
  ok(!IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, Timeout => 1), 'nothing listens any more');
}
done_testing;
