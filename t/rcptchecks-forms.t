#!/usr/bin/perl
# Every RCPT form of t/data/rcpt-forms through rcptchecks in front of the
# real exim4 -bs: for each, either rcptchecks refused it, or the address
# it checked (or passed on as foreign) is the one exim delivered to. The
# same table is checked against qmail-smtpd's rules in
# t/unit/rcptaddr-test.c.
#
# exim here: local domains example.org, example.net, mx.example.org
# (its primary_hostname, with which it qualifies a bare local part) and
# any literal of the host's own addresses (@[], allow_domain_literals);
# rcptchecks: -q mx.example.org -L mx.example.org, a catch-all for each
# local domain, so that every local address it checks reaches exim.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
my $make = "$top/rcptchecks/rcptchecks-make";
plan skip_all => "$bin not built" unless -x $bin && -x $make;

my $dir = tmpdir();
my $cdb = "$dir/recipients.cdb";
make_cdb(recipients => "example.org\nexample.net\nmx.example.org\n\@example.org\n\@example.net\n\@mx.example.org\n", $cdb);
my $mta = exim_child(local_domains => 'example.org : example.net : mx.example.org : @[]', literals => 1);
my $ME = 'mx.example.org';

sub unescape {
  my ($s) = @_;
  $s =~ s/\\(x([0-9a-fA-F]{2})|t|r|\\)/$2 ? chr hex $2 : $1 eq 't' ? "\t" : $1 eq 'r' ? "\r" : '\\'/ge;
  return $s;
}

# exim's deliveries logged since $from bytes of its main log:
# "=> ADDR <ORIGINAL> R=..." or "=> ADDR R=..."
sub deliveries {
  my ($from) = @_;
  my $log = slurp($mta->dir . '/log/mainlog') // '';
  my @d;
  for (split /\n/, substr($log, $from)) {
    push @d, ($2 // $1) if / => (\S+)(?: <([^>]*)>)? R=/;
  }
  return @d;
}

# the address exim delivered to, as rcptchecks would name it: its own
# literals are the -L name, case aside
sub canonical {
  my ($a) = @_;
  $a = lc $a;
  # exim logs a quoted local part as written; it delivers to the local
  # part without its quotes (deliver.c, deliver_split_address: "removing
  # quoting backslashes and any unquoted doublequotes")
  1 while $a =~ s/^([^"\@]*)"([^"\\]*)"/$1$2/;
  $a =~ s/\@\[[^\]]*\]$/\@$ME/;
  return $a;
}

open my $fh, '<', "$top/t/data/rcpt-forms" or die "t/data/rcpt-forms: $!";
my @forms;
while (<$fh>) {
  chomp;
  next if /^#/ || !length;
  my ($form, $want) = split /\t/;
  push @forms, [unescape($form), $want, $form];
}
cmp_ok(scalar @forms, '>=', 80, 'at least 80 forms');

my ($n, $passed, $refused) = (0, 0, 0);
for my $f (@forms) {
  my ($form, $want, $shown) = @$f;
  $n++;
  my $logsize = -s ($mta->dir . '/log/mainlog') // 0;
  my $script = join "\r\n", 'EHLO client.test', 'MAIL FROM:<sender@other.test>', $form, 'DATA',
    "Subject: form $n", '', 'body', '.', 'QUIT', '';
  my ($rc, $out, $err) = run_cmd(argv => [$bin, '-c', $cdb, '-q', $ME, '-L', $ME, '-u', '0', '-d', '0', @{ $mta->argv }],
    env => { TCPREMOTEIP => '127.0.0.1', RELAYCLIENT => undef, RBLLATE => undef }, stdin => $script, timeout => 30);
  my @decision = map { / rcpt=<(.*)> result=(\w+)/ ? [$1, $2] : () } split /\n/, $err;
  my ($checked, $result) = @{ $decision[0] // ['', 'none'] };
  my $forwarded = $result =~ /^(?:known|foreign|postmaster)$/;
  my @got = deliveries($logsize);
  subtest "$shown ($want)" => sub {
    if ($want eq 'refuse') {
      ok(!$forwarded, "refused by rcptchecks ($result)") or diag $err;
      $refused++;
    } elsif ($want =~ /^check (.*)/) {
      is(lc $checked, lc $1, "checked as $1") or diag $err;
      is($result, 'known', '... and found (a catch-all)');
    } elsif ($want =~ /^foreign (.*)/) {
      is($result, 'foreign', "passed on as foreign") or diag $err;
      like($checked, qr/\@\Q$1\E$/i, "... at $1");
    } else {
      is($result, 'postmaster', 'the bare postmaster passed on') or diag $err;
    }
    # the differential rule: what exim delivered, rcptchecks checked
    if (@got) {
      ok($forwarded, 'exim delivered only what rcptchecks passed on') or diag "exim delivered to @got";
      my $as = $result eq 'postmaster' ? "postmaster\@$ME" : $checked;
      is(canonical($_), lc $as, "exim delivered to $_, the address rcptchecks checked") for @got;
      $passed++;
    } else {
      pass('exim delivered nothing');
    }
    unlike($out, qr/^5\d\d[ -].*\n(?:.*\n)*^250 OK id=/m, 'no message accepted after a refused recipient')
      if $want eq 'refuse';
  };
}
note("$n forms: $refused refused by rcptchecks, $passed delivered by exim, each to the address rcptchecks checked");
cmp_ok($passed, '>=', 20, 'many forms reached exim and were compared');
done_testing;
