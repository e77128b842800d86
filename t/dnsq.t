#!/usr/bin/perl
# mx_dnsq (common/mx_dnsq.h), the DNS engine an event loop owns, against
# a real tinydns: t/dnsq-test drives it with commands and prints what
# came out (see its contract comment).
#
# Covered: forward-confirmed PTR (confirmed, a name that does not point
# back, no PTR, a PTR to a name that does not exist, IPv6), A (listed
# with two addresses, not listed: NXDOMAIN, a name with no A), TXT
# (strings joined), TTLs (the lowest answer record; with none, the
# lower of the SOA's TTL and MINIMUM), deadlines against a resolver
# that never answers (TIMEOUT at the deadline, resends within it, a
# lookup that waits out its deadline in the FIFO never sent),
# max_inflight with 500 lookups, FIFO order, EAGAIN when full (finished
# lookups not taken count), cancel of waiting, in-flight and finished
# lookups and of stale ids.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Socket qw(SOCK_DGRAM);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $drv = "$top/t/dnsq-test";
plan skip_all => "$drv not built" unless -x $drv;

# 32 reversed nibbles of an IPv6 address
sub nibbles { join '.', reverse split //, unpack 'H32', Socket::inet_pton(Socket::AF_INET6(), $_[0]) }

my $SOA = 'ns.test.example.:hostmaster.test.example.:1:16384:2048:1048576';
my $LONG = join '', map { chr(ord('a') + $_ % 26) } 0 .. 299;
my @data = (
  # zones: SOA MINIMUM then TTL; the negative TTL is the lower
  "Ztest.example:$SOA:120:600",           '&test.example::ns.test.example.',
  "Zbl.example:$SOA:45:900",              '&bl.example::ns.test.example.',
  "Z2.0.192.in-addr.arpa:$SOA:300:90",    '&2.0.192.in-addr.arpa::ns.test.example.',
  "Zip6.arpa:$SOA:77:500",                '&ip6.arpa::ns.test.example.',
  # FCRDNS: .10 confirmed (PTR 200, A 300), .11 points elsewhere, .12 no
  # PTR, .13 a PTR to a name that does not exist; 2001:db8::10 confirmed
  '^10.2.0.192.in-addr.arpa:host.test.example:200',
  '+host.test.example:192.0.2.99:300', '+host.test.example:192.0.2.10:300',
  '^11.2.0.192.in-addr.arpa:liar.test.example:300', '+liar.test.example:192.0.2.77:300',
  '^13.2.0.192.in-addr.arpa:nowhere.test.example:300',
  # (this tinydns-data has no IPv6 lines: a generic AAAA record, a PTR)
  ':host6.test.example:28:' . join('', map { sprintf '\\%03o', $_ } unpack 'C16', Socket::inet_pton(Socket::AF_INET6(), '2001:db8::10')) . ':250',
  '^' . nibbles('2001:db8::10') . '.ip6.arpa:host6.test.example:250',
  # DNSBL: .10 listed twice with a TXT, .11 a TXT alone, .12 not listed
  '+10.2.0.192.bl.example:127.0.0.2:1800', '+10.2.0.192.bl.example:127.0.0.4:700',
  "'10.2.0.192.bl.example:Listed\\072 see http\\072//bl.example/:1200",
  "'11.2.0.192.bl.example:only text:500",
  "'long.bl.example:$LONG:60",
  # any name under bulk.test.example
  '+*.bulk.test.example:127.0.0.2:100',
);
my $dns = start_tinydns(data => join("\n", @data) . "\n");

sub drive {
  my ($ip, @cmd) = @_;
  my ($rc, $out, $err) = run_cmd(argv => [$drv, @cmd], env => { DNSCACHEIP => $ip }, timeout => 60);
  is($rc, 0, "dnsq-test @cmd[0 .. ($#cmd < 5 ? $#cmd : 5)] ... exits 0") or diag "$out$err";
  return $out;
}
# the result line of submission K as a hash
sub result {
  my ($out, $k) = @_;
  my ($line) = $out =~ /^result $k (.*)$/m or return {};
  return { map { /^(\w+)=(.*)$/ ? ($1, $2) : () } split / /, $line };
}
sub results { scalar(() = $_[0] =~ /^result /mg) }

subtest 'forward-confirmed PTR' => sub {
  my $out = drive($dns->ip, qw(new 4 4), map({ ('ptr', $_, 3000) } qw(192.0.2.10 192.0.2.11 192.0.2.12 192.0.2.13 2001:db8::10)), qw(drain 5000));
  my %r = map { $_ => result($out, $_) } 1 .. 5;
  is_deeply([@{ $r{1} }{qw(status rcode fcrdns name ttl)}], ['answered', 0, 1, 'host.test.example', 200],
    'confirmed: the name, the lower TTL of PTR (200) and A (300)') or diag $out;
  is_deeply([@{ $r{2} }{qw(status fcrdns name)}], ['answered', 0, ''], 'a name that does not point back: 0, no name');
  is_deeply([@{ $r{3} }{qw(status rcode fcrdns name ttl)}], ['answered', 3, 0, '', 90],
    'no PTR: NXDOMAIN, 0, the SOA TTL (90, under its MINIMUM 300)');
  is_deeply([@{ $r{4} }{qw(status rcode fcrdns ttl)}], ['answered', 0, 0, 120],
    'a PTR to a name that does not exist: 0, the lower of PTR 300 and that zone\'s negative 120');
  is_deeply([@{ $r{5} }{qw(status fcrdns name ttl)}], ['answered', 1, 'host6.test.example', 250], 'IPv6: confirmed by its AAAA');
  like($out, qr/^drained 5 inflight=0 waiting=0 done=0 maxfly=4$/m, 'five lookups, four at most on the wire');
};

subtest 'A and TXT, with their TTLs' => sub {
  my $out = drive($dns->ip, qw(new 10 0),
    qw(a 10.2.0.192.bl.example 3000 a 12.2.0.192.bl.example 3000 a 11.2.0.192.bl.example 3000),
    qw(txt 10.2.0.192.bl.example 3000 txt long.bl.example 3000 txt 12.2.0.192.bl.example 3000), qw(drain 5000));
  my %r = map { $_ => result($out, $_) } 1 .. 6;
  is_deeply([@{ $r{1} }{qw(status rcode ttl)}, join(',', sort split /,/, $r{1}{a})], ['answered', 0, 700, '127.0.0.2,127.0.0.4'],
    'listed: both addresses, the lowest TTL (700)') or diag $out;
  is_deeply([@{ $r{2} }{qw(status rcode a ttl)}], ['answered', 3, '', 45],
    'not listed: NXDOMAIN, no address, the SOA MINIMUM (45, under its TTL 900)');
  is_deeply([@{ $r{3} }{qw(status rcode a ttl)}], ['answered', 0, '', 45], 'a name with no A: no address, the negative TTL');
  is_deeply([@{ $r{4} }{qw(status txt ttl)}], ['answered', 'Listed:', 1200], 'TXT: the text (to the first blank here), its TTL');
  like($out, qr{^result 4 .* txt=Listed: see http://bl\.example/$}m, 'TXT: the whole text');
  is($r{5}{txt}, $LONG, 'TXT of 300 bytes in three strings: joined');
  is_deeply([@{ $r{6} }{qw(status rcode txt ttl)}], ['answered', 3, '', 45], 'TXT of a name that does not exist');
  my $bad = drive($dns->ip, qw(new 1 0 a), 'x' x 64 . '.example', 100, 'a', 'x.' x 150, 100);
  like($bad, qr/^submit 1 error EINVAL\nsubmit 2 error EINVAL$/m, 'bad names: EINVAL') or diag $bad;
};

# a UDP socket on port 53 of a new loopback address that never answers
sub silent_resolver {
  my $ip = loopback_ip();
  my $s = IO::Socket::IP->new(Proto => 'udp', Type => SOCK_DGRAM, LocalHost => $ip, LocalPort => 53)
    or die "cannot bind UDP $ip:53: $@";
  return ($ip, $s);
}
sub datagrams {
  my ($s) = @_;
  my ($n, @names) = (0);
  $s->blocking(0);
  while (defined $s->recv(my $buf, 1500)) { $n++ }
  $s->blocking(1);
  return $n;
}

subtest 'deadlines against a resolver that never answers' => sub {
  my ($sip, $sock) = silent_resolver();
  my $out = drive($sip, qw(new 8 0 a x.test.example 700 ptr 192.0.2.10 400 txt y.test.example 3500 drain 10000));
  my %r = map { $_ => result($out, $_) } 1 .. 3;
  for ([1, 700], [2, 400], [3, 3500]) {
    my ($k, $ms) = @$_;
    is($r{$k}{status}, 'timeout', "lookup $k: TIMEOUT") or diag $out;
    ok($r{$k}{ms} >= $ms && $r{$k}{ms} <= $ms + 100, "... at its deadline ($ms ms: $r{$k}{ms})");
    ok($r{$k}{seen} >= $ms && $r{$k}{seen} <= $ms + 150, "... taken by then ($r{$k}{seen})");
  }
  is($r{2}{fcrdns}, -1, 'FCRDNS timed out: -1');
  # libowfat resends a recursive query after 3 s, then 11 s: only the
  # 3.5 s lookup lived to resend
  my $n = datagrams($sock);
  is($n, 4, 'three queries and one resend reached the silent resolver') or diag "$n datagrams";

  # one on the wire: the second waits out its deadline in the FIFO, unsent
  $out = drive($sip, qw(new 1 4 a x.test.example 900 a y.test.example 300 counts drain 3000));
  like($out, qr/^counts inflight=1 waiting=1 done=0$/m, 'one on the wire, one waiting') or diag $out;
  is(result($out, 2)->{status}, 'timeout', 'the waiting one: TIMEOUT');
  ok(result($out, 2)->{ms} >= 300 && result($out, 2)->{ms} <= 400, '... at its own deadline, not after the first');
  is(datagrams($sock), 1, '... and it never left');
};

subtest 'max_inflight with 500 lookups, FIFO order' => sub {
  my $out = drive($dns->ip, qw(new 20 480 bulk 500 a %.bulk.test.example 20000 drain 30000));
  like($out, qr/^bulk ok 500 refused 0$/m, '500 submitted') or diag $out;
  like($out, qr/^drained 500 inflight=0 waiting=0 done=0 maxfly=20$/m, 'all 500 taken, 20 on the wire at most and at times');
  my @ok = $out =~ /^result \d+ status=answered rcode=0 ttl=100 .* a=127\.0\.0\.2$/mg;
  is(scalar @ok, 500, 'each answered with its address and TTL');

  my $before = () = $dns->log_text =~ /\.order\.test\.example/g;
  $out = drive($dns->ip, qw(new 1 30 bulk 30 a q%.order.test.example 20000 drain 30000));
  like($out, qr/^drained 30 .* maxfly=1$/m, '30 through one place') or diag $out;
  my @asked = $dns->log_text =~ /\bq(\d+)\.order\.test\.example/g;
  is("@asked[$before .. $#asked]", join(' ', 1 .. 30), 'sent in the order submitted');
};

subtest 'full: EAGAIN' => sub {
  my $out = drive($dns->ip, qw(new 2 3), map({ ('a', "e$_.bulk.test.example", 5000) } 1 .. 6),
    qw(settle 5000), 'a', 'e7.bulk.test.example', 5000, 'take1', 'a', 'e8.bulk.test.example', 5000,
    'a', 'e9.bulk.test.example', 5000, qw(drain 5000));
  like($out, qr/^submit 5 ok\nsubmit 6 error EAGAIN$/m, 'the sixth of 2 + 3: EAGAIN') or diag $out;
  like($out, qr/^settled inflight=0 waiting=0 done=5$/m, 'five finished, not taken');
  like($out, qr/^submit 7 error EAGAIN$/m, 'finished lookups not taken still count');
  like($out, qr/^submit 8 ok\nsubmit 9 error EAGAIN$/m, 'one taken: room for one');
  is(results($out), 6, 'six results in all: one taken, then five');
};

subtest 'cancel' => sub {
  my $before = () = $dns->log_text =~ /\bc\d\.bulk\.test\.example/g;
  my $out = drive($dns->ip, qw(new 1 4),
    qw(a c1.bulk.test.example 5000 a c2.bulk.test.example 5000 cancel 2 drain 5000),     # waiting
    qw(a c3.bulk.test.example 5000 cancel 3 run 300 take counts),                        # in flight
    qw(a c4.bulk.test.example 5000 settle 5000 cancel 4 take counts),                   # finished
    qw(cancel 4 cancel 2 cancel 3 cancelid 0 cancelid 123456789),                       # stale
    qw(a c5.bulk.test.example 5000 cancel 4 drain 5000));                                # a place reused
  like($out, qr/^cancel 2 1\n/m, 'a waiting lookup: cancelled') or diag $out;
  like($out, qr/^drained 1 /m, '... only the other came out');
  like($out, qr/^cancel 3 1\nnone\ncounts inflight=0 waiting=0 done=0$/m, 'in flight: cancelled, its answer ignored');
  like($out, qr/^settled inflight=0 waiting=0 done=1\ncancel 4 1\nnone\ncounts inflight=0 waiting=0 done=0$/m, 'finished, not taken: cancelled, nothing comes out');
  like($out, qr/^cancel 4 0\ncancel 2 0\ncancel 3 0\ncancelid 0 0\ncancelid 123456789 0$/m, 'stale ids and ids never given: 0');
  like($out, qr/^submit 5 ok\ncancel 4 0\nresult 5 status=answered/m, 'the id of a place since reused: 0, the new lookup untouched');
  is(results($out), 2, 'two results in all');
  my @asked = $dns->log_text =~ /\b(c\d)\.bulk\.test\.example/g;
  is("@asked[$before .. $#asked]", 'c1 c3 c4 c5', 'the cancelled waiting lookup never left');
};

done_testing;
