#!/usr/bin/perl
# rcptchecks-make: the recipient list becomes a CDB (read back here with
# a reader of the cdb format), replaced atomically; every bad line is
# refused with its number and leaves the old database untouched.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $make = top() . '/rcptchecks/rcptchecks-make';
my $dir = tmpdir();
my ($cdb, $tmp) = ("$dir/recipients.cdb", "$dir/recipients.tmp");

# every record of a cdb file, as [key, data] in file order
sub cdb_records {
  my ($path) = @_;
  my $bytes = slurp($path) // return;
  my $end = length $bytes;
  for my $i (0 .. 255) {   # the records end where the first hash table starts
    my ($pos) = unpack 'V', substr($bytes, $i * 8, 4);
    $end = $pos if $pos < $end;
  }
  my ($pos, @r) = (2048);
  while ($pos < $end) {
    my ($klen, $dlen) = unpack 'VV', substr($bytes, $pos, 8);
    push @r, [substr($bytes, $pos + 8, $klen), substr($bytes, $pos + 8 + $klen, $dlen)];
    $pos += 8 + $klen + $dlen;
  }
  return @r;
}

sub build {
  my ($list, @opts) = @_;
  return run_cmd(argv => [$make, @opts, $cdb, $tmp], stdin => $list);
}

my ($rc, $out, $err) = build(<<'LIST');
# our domains and who lives there
Example.ORG
  Alice@Example.org
bob-default@example.org	
@Catch.Example.
postmaster@[192.0.2.1]
LIST
is($rc, 0, 'a list builds') or diag $err;
ok(!-e $tmp, 'the temporary file is gone');
my %rec = map { ($_->[0] => $_->[1]) } cdb_records($cdb);
is($rec{'o:case'}, 'fold', 'case folding recorded');
ok(exists $rec{'dexample.org'}, 'a bare domain line makes a local domain');
ok(exists $rec{'aalice@example.org'}, 'an address, lower-cased');
ok(exists $rec{'abob-default@example.org'}, 'an extension default, as written');
ok(exists $rec{'a@catch.example'} && exists $rec{'dcatch.example'}, 'a catch-all, trailing dot dropped, its domain local');
ok(exists $rec{'apostmaster@[192.0.2.1]'}, 'a domain literal');
is_deeply([sort grep { /^a/ } keys %rec], [sort map { "a$_" } 'alice@example.org', 'bob-default@example.org', '@catch.example', 'postmaster@[192.0.2.1]'],
  'exactly the listed addresses');

($rc, undef, $err) = build("Alice\@Example.org\n", '-c');
is($rc, 0, '-c builds');
%rec = map { ($_->[0] => $_->[1]) } cdb_records($cdb);
is($rec{'o:case'}, 'keep', '-c: case kept is recorded');
ok(exists $rec{'aAlice@example.org'}, '-c: the local part keeps its case, the domain does not');

# SMTPUTF8 entries (RFC 6531): UTF-8 kept, ASCII letters folded, a
# domain in U-labels stored as its A-labels, so that either spelling of
# it, in the list or from the client, is one domain
($rc, undef, $err) = build("B\xc3\xbcCHER.example\nJ\xc3\x96rg\@b\xc3\xbccher.example.\n\xc3\xa9\@xn--mller-kva.example\n");
is($rc, 0, 'a list with UTF-8 builds') or diag $err;
%rec = map { ($_->[0] => $_->[1]) } cdb_records($cdb);
ok(exists $rec{'dxn--bcher-kva.example'}, 'B\x{fc}CHER.example is stored as xn--bcher-kva.example');
ok(exists $rec{"aj\xc3\x96rg\@xn--bcher-kva.example"}, 'J\x{d6}rg@ at it: the A-label, ASCII folded, \x{d6} as written');
ok(exists $rec{"a\xc3\xa9\@xn--mller-kva.example"} && exists $rec{'dxn--mller-kva.example'}, 'an A-label as written');
is(scalar(grep { /[\x80-\xff]/ } map { /^d(.*)/ ? $1 : /^a.*\@(.*)/ ? $1 : () } keys %rec), 0, 'no stored domain holds a non-ASCII byte');

# a good database stays in place when a new list is refused
($rc) = build("keep\@example.org\n");
my $good = slurp($cdb);
my @bad = (
  ["a\@example.org\nb c\@example.org\n", qr/line 2: blank or unprintable/, 'a blank inside an address'],
  ["a\@example.org\n\n# x\nbad\x01\@example.org\n", qr/line 4: blank or unprintable/, 'a control byte'],
  ["a\@example.org\nb\@exa\0mple.org\n", qr/line 2: NUL byte/, 'a NUL byte'],
  ["b\@\n", qr/line 1: not a domain after @/, 'an empty domain'],
  ["b\@exa..mple.org\n", qr/line 1: not a domain after @/, 'an empty label'],
  ["b\@ex\$ample.org\n", qr/line 1: not a domain after @/, 'a bad character in the domain'],
  ["exa/mple.org\n", qr/line 1: not a domain/, 'a bad domain line'],
  ["a\@example.org\nd\xc3lia\@example.org\n", qr/line 2: not valid UTF-8/, 'a byte that is not UTF-8 (RFC 3629)'],
  ["d\xc0\xaelia\@example.org\n", qr/line 1: not valid UTF-8/, 'an overlong form'],
  ["a\@\xe2\x80\x8b.example\n", qr/line 1: not a domain after @/, 'a domain IDNA2008 refuses (U+200B)'],
  ["a\@example.org\n" . ('x' x 5000) . "\@example.org\n", qr/line 2: line longer than 1000 bytes/, 'a 5000-byte line'],
);
for my $b (@bad) {
  my ($list, $re, $name) = @$b;
  ($rc, undef, $err) = build($list);
  is($rc, 100, "$name: exit 100");
  like($err, qr/$re.*nothing replaced/, "$name: message with the line number");
  ok(!-e $tmp, "$name: no temporary file left");
  is(slurp($cdb), $good, "$name: the database in place is untouched");
}
($rc, undef, $err) = run_cmd(argv => [$make, $cdb]);
is($rc, 100, 'usage error: exit 100');
($rc, undef, $err) = run_cmd(argv => [$make, $cdb, "$dir/missing/x.tmp"], stdin => "a\@b.example\n");
is($rc, 111, 'a temporary file that cannot be created: exit 111');
is(slurp($cdb), $good, '... the database untouched');
done_testing;
