#!/usr/bin/perl
# MXTest::start_tinydns with the real tinydns: A, PTR, a DNSBL-style
# 127.0.0.x A and TXT records answer over UDP, both to dnsq/dnsqr aimed
# at the server and to the djbdns client library through DNSCACHEIP (as
# the programs under test will query); reload changes the answers; bad
# data is refused; stop frees the address.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use lib 't/lib';
use MXTest;
use MXRun;

my $data = <<'EOF';
.example.org::
.in-addr.arpa::
.zen.example::
=host.example.org:127.0.0.1
^7.2.0.192.in-addr.arpa:dyn-192-0-2-7.pool.example.net
+7.2.0.192.zen.example:127.0.0.2
'7.2.0.192.zen.example:listed because
EOF

my $dns = start_tinydns(data => $data);
my $ip = $dns->ip;
like($ip, qr/^127\.\d+\.\d+\.\d+$/, "tinydns on a random loopback address ($ip)");

# dnsq exits 0 even when nothing answers: the output says what happened
sub dnsq {
  my ($type, $name) = @_;
  my (undef, $out) = run_cmd(argv => ['/usr/bin/dnsq', $type, $name, $ip], timeout => 20);
  return $out;
}
# the djbdns client library, as a program under test uses it
sub via_cache {
  my (@argv) = @_;
  my ($rc, $out, $err) = run_cmd(argv => \@argv, env => { DNSCACHEIP => $ip }, timeout => 20);
  return $rc ? "exit $rc: $err" : $out;
}

like(dnsq(a => 'host.example.org'), qr/^answer: host\.example\.org \d+ A 127\.0\.0\.1$/m, 'dnsq: A');
like(dnsq(ptr => '7.2.0.192.in-addr.arpa'), qr/^answer: 7\.2\.0\.192\.in-addr\.arpa \d+ PTR dyn-192-0-2-7\.pool\.example\.net$/m, 'dnsq: PTR');
like(dnsq(a => '7.2.0.192.zen.example'), qr/^answer: 7\.2\.0\.192\.zen\.example \d+ A 127\.0\.0\.2$/m, 'dnsq: DNSBL A');
like(dnsq(txt => '7.2.0.192.zen.example'), qr/^answer: 7\.2\.0\.192\.zen\.example \d+ 16 \\016listed\\040because$/m, 'dnsq: TXT');
like(dnsq(a => '8.2.0.192.zen.example'), qr/authoritative, nxdomain/, 'dnsq: a name not listed is NXDOMAIN');
{
  my (undef, $out) = run_cmd(argv => ['/usr/bin/dnsqr', 'a', 'host.example.org'], env => { DNSCACHEIP => $ip }, timeout => 20);
  like($out, qr/^answer: host\.example\.org \d+ A 127\.0\.0\.1$/m, 'dnsqr with DNSCACHEIP: A');
}
is(via_cache('/usr/bin/dnsname', '192.0.2.7'), "dyn-192-0-2-7.pool.example.net\n", 'DNSCACHEIP dnsname: PTR');
is(via_cache('/usr/bin/dnsip', 'host.example.org'), "127.0.0.1 \n", 'DNSCACHEIP dnsip: A');
is(via_cache('/usr/bin/dnsip', '7.2.0.192.zen.example'), "127.0.0.2 \n", 'DNSCACHEIP dnsip: DNSBL A');
is(via_cache('/usr/bin/dnstxt', '7.2.0.192.zen.example'), "listed because\n", 'DNSCACHEIP dnstxt: TXT');
is(via_cache('/usr/bin/dnsip', '9.2.0.192.zen.example'), "\n", 'DNSCACHEIP dnsip: not listed, no address');
like($dns->log_text, qr/^[0-9a-f]{8}:[0-9a-f]{4}:[0-9a-f]{4} \+ 0010 7\.2\.0\.192\.zen\.example$/m, "tinydns' log shows the queries");

# reload: the new data is live as soon as reload returns
(my $new = $data) =~ s/127\.0\.0\.2/127.0.0.4/;
$new .= "+8.2.0.192.zen.example:127.0.0.3\n";
$dns->reload(data => $new);
is(via_cache('/usr/bin/dnsip', '7.2.0.192.zen.example'), "127.0.0.4 \n", 'after reload: changed record');
is(via_cache('/usr/bin/dnsip', '8.2.0.192.zen.example'), "127.0.0.3 \n", 'after reload: new record');

ok(!eval { $dns->reload(data => "!not a record\n"); 1 }, 'reload with bad data fails');
like($@, qr/tinydns-data failed.*unable to parse data line 1: unrecognized leading character/s, '... with tinydns-data\'s message');
is(via_cache('/usr/bin/dnsip', '8.2.0.192.zen.example'), "127.0.0.3 \n", '... and the last good data still answers');
ok(!eval { start_tinydns(data => "!not a record\n"); 1 }, 'start_tinydns with bad data fails');

# a second server beside the first: its own address, its own data
my $dns2 = start_tinydns(data => ".example.org::\n+host.example.org:127.0.0.9\n");
isnt($dns2->ip, $ip, 'a second tinydns gets another address');
is(via_cache('/usr/bin/dnsip', 'host.example.org'), "127.0.0.1 \n", 'the first one is unchanged');

$dns->stop;
ok(!kill(0, $dns->pid), 'stop: tinydns is gone');
ok(IO::Socket::IP->new(Proto => 'udp', LocalHost => $ip, LocalPort => 53), 'stop: UDP port 53 is free again');
$dns2->stop;

done_testing;
