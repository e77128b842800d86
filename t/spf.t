#!/usr/bin/perl
# SPF (common/mx_spf.h) on a real DNS: t/spf-check, the evaluator bound
# to the sealed mx_dns client, against zones served by tinydns, and the
# same questions put to a real peer, Debian's python3-spf (pyspf), over
# the same tinydns: every record shape (all include a mx ptr ip4 ip6
# exists redirect exp, qualifiers, CIDR lengths), every macro letter and
# transformer, record selection, syntax errors, the limits (10 terms,
# 2 void lookups, 10 MX names), DNS timeouts (a name tinydns does not
# serve is never answered) and the whole evaluation's deadline. Where
# the two differ, %known says why ours is right and which section of
# RFC 7208 says so; any other difference fails.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $drv = "$top/t/spf-check";
-x $drv or BAIL_OUT('run make first');
my $py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my ($prc) = run_cmd(argv => [$py, '-c', 'import spf, DNS'], timeout => 30);
plan skip_all => 'python3-spf (package/debs) is not installed' if $prc;

my $SOA = 'ns.spf.test.:hostmaster.spf.test.:1:16384:2048:1048576:60';
my @data = ("Zspf.test:$SOA", '&spf.test::ns.spf.test.', "Z2.0.192.in-addr.arpa:$SOA", '&2.0.192.in-addr.arpa::ns.spf.test.');

# a TXT record, ':' and the like in octal as tinydns-data wants
sub txt {
  my ($name, $text) = @_;
  $text =~ s/([^A-Za-z0-9 .=~+?\/_{}%-])/sprintf('\\%03o', ord $1)/ge;
  push @data, "'$name:$text:60";
}
sub a    { push @data, "+$_[0]:$_[1]:60" }
sub mx   { push @data, "\@$_[0]::$_[1]:$_[2]:60" }
sub ptr  { push @data, "^$_[0]:$_[1]:60" }
sub aaaa {
  my ($name, $hex) = @_;    # 32 hex digits
  push @data, ":$name:28:" . join('', map { sprintf '\\%03o', hex $_ } $hex =~ /(..)/g) . ':60';
}

# every shape
txt('all.spf.test', 'v=spf1 +all');
txt('minus.spf.test', 'v=spf1 -all');
txt('q.spf.test', 'v=spf1 ?ip4:192.0.2.1 ~ip4:192.0.2.2 -ip4:192.0.2.3 +ip4:192.0.2.4 ip4:192.0.2.8/29 ip6:2001:db8::/32');
txt('a.spf.test', 'v=spf1 a a:h1.spf.test/30 a:h6.spf.test//64 -all');
a('a.spf.test', '192.0.2.10'); a('h1.spf.test', '192.0.2.20'); aaaa('h6.spf.test', '20010db8000100000000000000000001');
aaaa('a.spf.test', '20010db8000200000000000000000001');
txt('mx.spf.test', 'v=spf1 mx mx:mx2.spf.test/28 -all');
mx('mx.spf.test', 'm1.spf.test', 10); mx('mx.spf.test', 'm2.spf.test', 20);
a('m1.spf.test', '192.0.2.30'); a('m2.spf.test', '192.0.2.31');
mx('mx2.spf.test', 'm3.spf.test', 10); a('m3.spf.test', '192.0.2.50');
txt('ptr.spf.test', 'v=spf1 ptr ptr:other.spf.test -all');
ptr('40.2.0.192.in-addr.arpa', 'h40.ptr.spf.test'); a('h40.ptr.spf.test', '192.0.2.40');
ptr('41.2.0.192.in-addr.arpa', 'h41.ptr.spf.test'); a('h41.ptr.spf.test', '192.0.2.99');
ptr('42.2.0.192.in-addr.arpa', 'x.other.spf.test'); a('x.other.spf.test', '192.0.2.42');
txt('inc.spf.test', 'v=spf1 include:q.spf.test include:minus.spf.test ~all');
txt('incnone.spf.test', 'v=spf1 include:nope.spf.test -all');
txt('red.spf.test', 'v=spf1 ip4:192.0.2.77 redirect=a.spf.test');
txt('rednone.spf.test', 'v=spf1 redirect=nope.spf.test');
txt('ex.spf.test', 'v=spf1 exists:%{ir}.%{v}._spf.%{d} exists:%{l1r+-}.u.%{d2} -all');
a('5.2.0.192.in-addr._spf.ex.spf.test', '127.0.0.2'); a('bob.u.spf.test', '127.0.0.2');
txt('exp.spf.test', 'v=spf1 -all exp=why.exp.spf.test');
txt('why.exp.spf.test', '%{i} is not allowed to send for %{d} as %{l} (%{o} %{s} %{h} %{v} %{c} %{r}) %%%_%-%{d2r}');
txt('mac.spf.test', 'v=spf1 exists:%{L}.%{S}.%{D1}.%{O}.%{H}.x.spf.test -all');
txt('mac6.spf.test', 'v=spf1 exists:%{ir}.%{v}.six.spf.test -all');
txt('unk.spf.test', 'v=spf1 foo=bar%{d} moo.cow-x_y=%{l1r} -all');
txt('two.spf.test', 'v=spf1 +all'); txt('two.spf.test', 'v=spf1 -all');
txt('other.spf.test', 'v=spf10 +all'); txt('other.spf.test', 'hello');
txt('case.spf.test', 'V=SpF1 -ALL');
txt('syn.spf.test', 'v=spf1 -all bogus:x');
txt('cidr.spf.test', 'v=spf1 ip4:192.0.2.0/33 -all');
txt('badmac.spf.test', 'v=spf1 a:%{x}.spf.test -all');
txt('zero.spf.test', 'v=spf1 a:%{d0}.spf.test -all');
txt('ptrdom.spf.test', 'v=spf1 exists:%{p}.p.spf.test -all');
a('h40.ptr.spf.test.p.spf.test', '127.0.0.2');
# the limits
txt('ten.spf.test', 'v=spf1 ' . join(' ', map { "a:t$_.spf.test" } 1 .. 10) . ' -all');
a("t$_.spf.test", "192.0.2.1$_") for 1 .. 10;
txt('eleven.spf.test', 'v=spf1 include:ten.spf.test a:t1.spf.test ip4:192.0.2.200 -all');
txt('loop.spf.test', 'v=spf1 include:loop.spf.test -all');
txt('void2.spf.test', 'v=spf1 a:n1.spf.test a:n2.spf.test ip4:192.0.2.200 -all');
txt('void3.spf.test', 'v=spf1 a:n1.spf.test a:n2.spf.test exists:n3.spf.test ip4:192.0.2.200 -all');
txt('mx11.spf.test', 'v=spf1 mx -all');
mx('mx11.spf.test', "x$_.spf.test", $_) for 1 .. 11;
a("x$_.spf.test", '192.0.2.60') for 1 .. 11;
txt('mx10.spf.test', 'v=spf1 mx -all');
mx('mx10.spf.test', "x$_.spf.test", $_) for 1 .. 10;
# DNS that never answers: names outside the zones tinydns serves
txt('slow.spf.test', 'v=spf1 a:host.unserved.example -all');
txt('slowptr.spf.test', 'v=spf1 ptr:unserved.example ip4:192.0.2.1 -all');
txt('helo.spf.test', 'v=spf1 ip4:192.0.2.90 -all');

my $dns = start_tinydns(data => join("\n", @data) . "\n");
my $ip = $dns->ip;

# [client, sender, helo]
my @cases = (
  ['192.0.2.1', 'u@all.spf.test'], ['192.0.2.1', 'u@minus.spf.test'],
  (map { ["192.0.2.$_", 'u@q.spf.test'] } 1, 2, 3, 4, 9, 16), ['2001:db8::5', 'u@q.spf.test'], ['2001:db9::5', 'u@q.spf.test'],
  (map { [$_, 'u@a.spf.test'] } '192.0.2.10', '192.0.2.11', '192.0.2.22', '192.0.2.24', '2001:db8:1::ff', '2001:db8:1:1::1', '2001:db8:2::1'),
  (map { ["192.0.2.$_", 'u@mx.spf.test'] } 30, 31, 32, 55, 64),
  (map { ["192.0.2.$_", 'u@ptr.spf.test'] } 40, 41, 42, 43),
  (map { ["192.0.2.$_", 'u@inc.spf.test'] } 1, 2, 3, 4, 5), ['192.0.2.1', 'u@incnone.spf.test'],
  ['192.0.2.77', 'u@red.spf.test'], ['192.0.2.10', 'u@red.spf.test'], ['192.0.2.9', 'u@red.spf.test'], ['192.0.2.1', 'u@rednone.spf.test'],
  ['192.0.2.5', 'u@ex.spf.test'], ['192.0.2.6', 'bob+x-y@ex.spf.test'], ['192.0.2.6', 'rob@ex.spf.test'],
  ['192.0.2.7', 'Mr.X@exp.spf.test', 'helo.spf.test'],
  ['192.0.2.7', 'a@mac.spf.test'], ['2001:db8::cb01', 'a@mac6.spf.test'], ['192.0.2.1', 'a@unk.spf.test'],
  ['192.0.2.1', 'u@two.spf.test'], ['192.0.2.1', 'u@other.spf.test'], ['192.0.2.1', 'u@case.spf.test'],
  ['192.0.2.1', 'u@syn.spf.test'], ['192.0.2.1', 'u@cidr.spf.test'], ['192.0.2.1', 'u@badmac.spf.test'], ['192.0.2.1', 'u@zero.spf.test'],
  ['192.0.2.1', 'u@nope.spf.test'], ['192.0.2.40', 'u@ptrdom.spf.test'], ['192.0.2.41', 'u@ptrdom.spf.test'],
  ['192.0.2.110', 'u@ten.spf.test'], ['192.0.2.200', 'u@eleven.spf.test'], ['192.0.2.1', 'u@loop.spf.test'],
  ['192.0.2.200', 'u@void2.spf.test'], ['192.0.2.200', 'u@void3.spf.test'],
  ['192.0.2.60', 'u@mx11.spf.test'], ['192.0.2.60', 'u@mx10.spf.test'],
  ['192.0.2.1', 'u@slow.spf.test'], ['192.0.2.1', 'u@slowptr.spf.test'],
  ['192.0.2.90', '', 'helo.spf.test'], ['192.0.2.91', '', 'helo.spf.test'], ['192.0.2.90', 'postmaster@helo.spf.test', 'x.example'],
);

# pyspf over the same tinydns: one process, a case a line
my $oracle = <<'PY';
import sys, spf, DNS
DNS.defaults['server'] = [sys.argv[1]]
for line in sys.stdin:
    i, s, h = line.rstrip('\n').split('\t')
    r, e = spf.check2(i=i, s=s, h=h, timeout=2, querytime=3, receiver='mx.test.example')
    print(r + '\t' + e.replace('\n', ' '), flush=True)
PY
my $in = join '', map { join("\t", $_->[0], $_->[1], $_->[2] // 'mail.example.net') . "\n" } @cases;
my $tmp = tmpdir();
open my $fh, '>', "$tmp/in" or die; print $fh $in; close $fh;
my ($rc, $pyout, $pyerr) = run_cmd(argv => ['sh', '-c', "exec $py -c \"\$0\" $ip < $tmp/in", $oracle], timeout => 600);
is($rc, 0, 'pyspf ran') or diag $pyerr;
my @py = split /\n/, $pyout;
is(scalar @py, scalar @cases, 'pyspf answered every case');

# Where pyspf differs, and why ours is right
my %known = (
  '192.0.2.1 u@zero.spf.test' => ['permerror', 'RFC 7208 §7.3: a DIGIT transformer MUST be nonzero; %{d0} is a syntax error, §4.6: permerror'],
);

for my $k (0 .. $#cases) {
  my ($cip, $sender, $helo) = @{ $cases[$k] };
  $helo //= 'mail.example.net';
  my ($r, $out) = run_cmd(argv => [$drv, $cip, $sender, $helo, 4000], env => { DNSCACHEIP => $ip }, timeout => 30);
  my ($ours) = $out =~ /^(\S+)/;
  my ($theirs, $texp) = split /\t/, $py[$k] // '', 2;
  my $key = "$cip $sender";
  if (my $why = $known{$key}) {
    is($ours, $why->[0], "$key: ours $why->[0], pyspf $theirs ($why->[1])") or diag $out;
  } else {
    is($ours, $theirs, "$key ($helo): $ours as pyspf") or diag "ours: $out\npyspf: $py[$k]";
  }
  if ($sender =~ /\@exp\./) {
    my ($exp) = $out =~ / exp=(.*) why=/;
    is($exp, $texp, "$key: the explanation, every macro expanded, as pyspf's");
  }
}

# one deadline for the whole evaluation: a name never answered ends it
# at the deadline, not later
{
  my $t0 = time;
  my ($r, $out) = run_cmd(argv => [$drv, '192.0.2.1', 'u@slow.spf.test', 'h.example', 1500], env => { DNSCACHEIP => $ip }, timeout => 30);
  like($out, qr/^temperror .* ms=(\d+)/, 'a name never answered: temperror');
  my ($ms) = $out =~ / ms=(\d+)/;
  ok(defined $ms && $ms >= 1400 && $ms < 2500, "within the deadline of 1500 ms ($out)");
}

done_testing;
