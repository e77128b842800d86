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
use POSIX ();
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
    # never before the deadline; after it by at most 1 s, the room a
    # loaded machine needs to run the driver (the deadlines are 0.4, 0.7
    # and 3.5 s: one lookup ending at another's would still be caught)
    ok($r{$k}{ms} >= $ms && $r{$k}{ms} <= $ms + 1000, "... at its deadline ($ms ms: $r{$k}{ms})");
    ok($r{$k}{seen} >= $ms && $r{$k}{seen} <= $ms + 1000, "... taken by then ($r{$k}{seen})");
  }
  # the 0.4 s lookup, submitted after the 0.7 s one, ends first (the 1 s
  # of room above would hide it ending with the other)
  like($out, qr/^result 2 .*^result 1 .*^result 3 /ms, 'taken in the order of their deadlines, not of submission');
  is($r{2}{fcrdns}, -1, 'FCRDNS timed out: -1');
  # libowfat resends a recursive query after 3 s, then 11 s: only the
  # 3.5 s lookup lived to resend
  my $n = datagrams($sock);
  is($n, 4, 'three queries and one resend reached the silent resolver') or diag "$n datagrams";

  # 40 deadlines in shuffled order, 16 on the wire, 3 cancelled: each
  # lookup ends at its own deadline, whatever the order of submission
  my @ms = map { 100 + 50 * $_ } 0 .. 39;
  for (my $i = $#ms ; $i > 0 ; $i--) { my $j = int rand($i + 1) ; @ms[$i, $j] = @ms[$j, $i] }
  $out = drive($sip, qw(new 16 24), (map { ('a', "d$_.test.example", $ms[$_ - 1]) } 1 .. 40),
    qw(cancel 5 cancel 20 cancel 33 drain 5000));
  like($out, qr/^drained 37 inflight=0 waiting=0 done=0 maxfly=16$/m, '37 timed out, 16 on the wire at most') or diag $out;
  # each ends no earlier than its deadline and at most 1 s after it, a
  # loaded machine's room (deadlines kept in the order of submission
  # would end most of the shuffled short ones well over 1 s late)
  my @late = grep { my $r = result($out, $_); !($r->{status} eq 'timeout' && $r->{ms} >= $ms[$_ - 1] && $r->{ms} <= $ms[$_ - 1] + 1000) }
    grep { $_ != 5 && $_ != 20 && $_ != 33 } 1 .. 40;
  is("@late", '', 'each at its own deadline') or diag $out;
  ok(!(grep { %{ result($out, $_) } } 5, 20, 33), 'the cancelled ones: nothing');
  datagrams($sock);

  # one on the wire: the second waits out its deadline in the FIFO, unsent
  $out = drive($sip, qw(new 1 4 a x.test.example 900 a y.test.example 300 counts drain 3000));
  like($out, qr/^counts inflight=1 waiting=1 done=0$/m, 'one on the wire, one waiting') or diag $out;
  is(result($out, 2)->{status}, 'timeout', 'the waiting one: TIMEOUT');
  # < 900: the first's deadline, which a waiting one that ended with it
  # would share; room for a loaded machine below that
  ok(result($out, 2)->{ms} >= 300 && result($out, 2)->{ms} < 900, '... at its own deadline, not after the first (' . (result($out, 2)->{ms} // '?') . ' ms)');
  is(datagrams($sock), 1, '... and it never left');

  # a deadline already past at submission: TIMEOUT, nothing sent
  $out = drive($sip, qw(new 1 0 a z.test.example 0 drain 1000));
  like($out, qr/^result 1 status=timeout rcode=0 ttl=0 ms=0 /m, 'a deadline already past: TIMEOUT at once') or diag $out;
  is(datagrams($sock), 0, '... and no query left');
};

# A DNS server on TCP port 53 of $ip: answers every query with a CNAME
# (TTL 900) and a TXT record of $text (TTL 77). Returns its pid.
# (tinydns gives every record of a set the same TTL: this answer has
# two TTLs, of which the lower counts.)
sub tcp_txt_server {
  my ($ip, $text) = @_;
  my $l = IO::Socket::IP->new(LocalHost => $ip, LocalPort => 53, Listen => 8, ReuseAddr => 1)
    or die "cannot listen on TCP $ip:53: $@";
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    alarm 60;
    while (my $c = $l->accept) {
      my $get = sub { my $b = ''; while (length $b < $_[0]) { $c->sysread($b, $_[0] - length $b, length $b) or return undef } $b };
      my $len = $get->(2) // next;
      my $query = $get->(unpack 'n', $len) // next;
      my $rdata = join '', map { chr(length $_) . $_ } $text =~ /(.{1,255})/gs;
      my $answer = pack('n n n n n n', unpack('n', $query), 0x8580, 1, 2, 0, 0) . substr($query, 12)
        . pack('n n n N n', 0xc00c, 5, 1, 900, 4) . "\x01t\xc0\x0c"
        . pack('n n n N n', 0xc00c, 16, 1, 77, length $rdata) . $rdata;
      $c->syswrite(pack('n', length $answer) . $answer);
      close $c;
    }
    POSIX::_exit(0);
  }
  close $l;
  return $pid;
}

subtest 'a truncated answer: asked again over TCP' => sub {
  # tinydns sets TC on an answer over 512 bytes and has no TCP: the
  # TCP server beside it answers instead, with 600 bytes of text
  my $big = join '', map { chr(ord('A') + $_ % 26) } 0 .. 599;
  my $dns2 = start_tinydns(data => "Zbig.example:$SOA:60:60\n&big.example::ns.big.example.\n'txt.big.example:$big:300\n");
  my $pid = tcp_txt_server($dns2->ip, $big);
  my $out = drive($dns2->ip, qw(new 4 0 txt txt.big.example 3000 txt txt.big.example 3000 drain 5000));
  kill 'TERM', $pid;
  waitpid $pid, 0;
  for my $k (1, 2) {
    my $r = result($out, $k);
    is_deeply([@$r{qw(status ttl)}, length $r->{txt}], ['answered', 77, 512], "lookup $k: the TCP answer, cut to 512 bytes, the lower TTL (77, CNAME 900)") or diag $out;
    is($r->{txt}, substr($big, 0, 512), '... the text');
  }
  # nothing on TCP now: every server failed, well before the deadline
  $out = drive($dns2->ip, qw(new 4 0 txt txt.big.example 3000 drain 5000));
  my $r = result($out, 1);
  is($r->{status}, 'failed', 'no TCP server: FAILED') or diag $out;
  ok($r->{ms} < 1000, "... at once ($r->{ms} ms)");
  $dns2->stop;
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
