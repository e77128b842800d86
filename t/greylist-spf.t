#!/usr/bin/perl
# Greylisting by the transaction's SPF result (rcptchecks -E spf with
# -E greylist, greylist.h), in front of exim4 -bs on rcptchecks' own
# pipes, the records served by a real tinydns: with -O only=spf a pass
# is not greylisted and softfail, none and a fail let through by
# -W spf are; with rdns, any one cause is enough; -O spfallow=FILE lets
# an SPF pass of a listed domain or a subdomain of it through at once
# (greylist=spf-allow), never a name that merely ends with a listed one,
# never a listed domain whose result is not pass; a file that cannot be
# read or has a bad line is warned about and greylisting goes on
# without it; only=spf and spfallow= without the SPF check: usage.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
plan skip_all => "$bin not built" unless -x $bin;

my $dir = tmpdir();
my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n", "$dir/r.cdb");
my $mta = exim_child();
my $client = '192.0.2.7';

sub txt {
  my ($name, $text) = @_;
  $text =~ s/([^A-Za-z0-9 .=~+?\/_{}%-])/sprintf('\\%03o', ord $1)/ge;
  return "'$name:$text:60";
}
my $dns = start_tinydns(data => join '', map { "$_\n" }
  '.spf.test::', '.big.test::', '.notbig.test::', '.forged.test::',
  txt('pass.spf.test', "v=spf1 ip4:$client -all"),
  txt('soft.spf.test', 'v=spf1 ~all'),
  txt('fail.spf.test', 'v=spf1 -all'),
  '+nospf.spf.test:192.0.2.9',
  txt('big.test', "v=spf1 ip4:192.0.2.0/24 -all"),
  txt('mail.big.test', "v=spf1 ip4:192.0.2.0/24 -all"),
  txt('notbig.test', "v=spf1 ip4:192.0.2.0/24 -all"),
  txt('forged.test', 'v=spf1 -all'));

open my $fh, '>', "$dir/allow" or die $!;
print $fh "# big senders\n\n  big.test  \nforged.test.\n";
close $fh;
open $fh, '>', "$dir/bad" or die $!;
print $fh "big.test\npostmaster\@big.test\n";
close $fh;

my $n = 0;
my $logs = '';    # every session's log, for mxguard-report
# one session: (RCPT's reply, the greylist= word, the spf= word, the log)
sub session {
  my (%a) = @_;
  my $from = $a{from};
  $n++;
  my $conv = "EHLO client.example\r\nMAIL FROM:<$from>\r\nRCPT TO:<alice\@example.org>\r\nQUIT\r\n";
  my ($rc, $out, $err) = run_cmd(argv => [$bin, '-c', $cdb, '-d', '0', '-u', '0', '-G', "$dir/grey", '-I', '300',
      @{ $a{opts} }, @{ $mta->argv }],
    env => { TCPREMOTEIP => $a{ip} // $client, DNSCACHEIP => $dns->ip, RELAYCLIENT => undef, RBLSCORE => undef,
             RBLLATE => undef, SMTPDELAY_CLASS => undef, %{ $a{env} || {} } },
    stdin => $conv, timeout => 30);
  is($rc, 0, 'rcptchecks exits 0') or diag $err;
  $logs .= $err;
  my @r = grep { /^\d{3} / } split /\r\n/, $out;
  my ($g, $s) = $err =~ /rcpt=<alice\@example\.org> result=\S+(?: dryrun=1)? delay=[\d.]+ greylist=(\S+)(?: spf=(\S+))?$/m;
  return ($r[3] // '', $g // '', $s // '', $err);
}

my @onlyspf = ('-E', 'spf,greylist', '-O', 'only=spf');

subtest 'only=spf: a pass is not greylisted, softfail and none are' => sub {
  my ($r, $g, $s) = session(opts => \@onlyspf, from => 'a@pass.spf.test');
  like($r, qr/^250 /, 'SPF pass: accepted at once');
  is("$g $s", 'unselected pass', 'greylist=unselected spf=pass');
  ($r, $g, $s) = session(opts => \@onlyspf, from => 'a@soft.spf.test');
  like($r, qr/^451 4\.7\.1 Greylisted/, 'SPF softfail: greylisted');
  is("$g $s", 'new softfail', 'greylist=new spf=softfail');
  ($r, $g, $s) = session(opts => \@onlyspf, from => 'a@nospf.spf.test');
  like($r, qr/^451 4\.7\.1 /, 'SPF none: greylisted');
  is("$g $s", 'new none', 'greylist=new spf=none');
  ($r, $g, $s) = session(opts => ['-E', 'greylist', '-W', 'spf', '-O', 'only=spf'], from => 'a@fail.spf.test');
  like($r, qr/^451 4\.7\.1 /, 'SPF fail let through by -W spf: greylisted');
  is("$g $s", 'new fail', 'greylist=new spf=fail');
  ($r, $g, $s) = session(opts => ['-E', 'spf,greylist', '-O', 'only=rdns+spf'], from => 'b@pass.spf.test', env => { SMTPDELAY_CLASS => 'dynamic' });
  like($r, qr/^451 4\.7\.1 /, 'only=rdns+spf: a dynamic client with SPF pass is greylisted (any one cause)');
  ($r, $g, $s) = session(opts => ['-E', 'spf,greylist', '-O', 'only=rdns+spf'], from => 'c@pass.spf.test', env => { SMTPDELAY_CLASS => 'named' });
  like($r, qr/^250 /, 'only=rdns+spf: a named client with SPF pass is not');
  is($g, 'unselected', 'greylist=unselected');
};

subtest 'spfallow: an SPF pass of a listed domain or a subdomain of it is never greylisted' => sub {
  my @allow = ('-E', 'spf,greylist', '-O', "spfallow=$dir/allow");
  my ($r, $g, $s) = session(opts => \@allow, from => 'x@big.test');
  like($r, qr/^250 /, 'a listed domain with SPF pass: accepted at once');
  is("$g $s", 'spf-allow pass', 'greylist=spf-allow spf=pass');
  ($r, $g, $s) = session(opts => \@allow, from => 'x@mail.big.test', ip => '192.0.2.99');
  like($r, qr/^250 /, 'a subdomain of a listed domain, another address of the pool: accepted at once');
  is($g, 'spf-allow', 'greylist=spf-allow');
  ($r, $g, $s) = session(opts => \@allow, from => 'x@notbig.test');
  like($r, qr/^451 4\.7\.1 /, 'a name that only ends with a listed one: greylisted');
  is("$g $s", 'new pass', 'greylist=new spf=pass');
  ($r, $g, $s) = session(opts => ['-E', 'greylist', '-W', 'spf', '-O', "spfallow=$dir/allow"], from => 'x@forged.test');
  like($r, qr/^451 4\.7\.1 /, 'a listed domain whose SPF result is fail (let through by -W spf): greylisted');
  is("$g $s", 'new fail', 'greylist=new spf=fail');
  ($r, $g, $s) = session(opts => [@allow, '-O', 'only=spf'], from => 'y@big.test');
  is("$g $s", 'spf-allow pass', 'with only=spf too: spf-allow');
};

subtest 'a list that cannot be used: warned, greylisting goes on without it' => sub {
  my ($r, $g, $s, $log) = session(opts => ['-E', 'spf,greylist', '-O', "spfallow=$dir/bad"], from => 'z@big.test');
  like($r, qr/^451 4\.7\.1 /, 'a list with a bad line: not used, the mail greylisted');
  like($log, qr/rcptchecks: warning: .* spfallow=\Q$dir\E\/bad error=line 2: an address, not a domain$/m, 'warned with the line');
  ($r, $g, $s, $log) = session(opts => ['-E', 'spf,greylist', '-O', "spfallow=$dir/missing"], from => 'w@big.test');
  like($r, qr/^451 4\.7\.1 /, 'a missing list: the mail greylisted');
  like($log, qr/spfallow=\Q$dir\E\/missing error=unable to read: /m, 'warned');
};

subtest 'mxguard-report: lines with greylist= and spf= both' => sub {
  my $stamp = sprintf '@4000000065%06x00000000', 0;
  my $text = join '', map { "$stamp $_\n" } grep { /^rcptchecks: / } split /\n/, $logs;
  my $new = () = $text =~ / greylist=new spf=\w+$/mg;
  ok($new >= 5, "the sessions above: $new deferred with an SPF result");
  my ($rc, $out, $err) = run_cmd(argv => ["$top/report/mxguard-report"], stdin => $text);
  is($rc, 0, 'mxguard-report') or diag $err;
  unlike($out, qr/malformed/i, 'no malformed line') or diag $out;
  like($out, qr/^  all\s+$new\s+0\s+0\s+100\.0%$/m, "greylisting: $new deferred, none back") or diag $out;
  like($out, qr/^SPF RESULTS PER DAY/m, 'the SPF section') or diag $out;
};

subtest 'only=spf and spfallow= need the SPF check' => sub {
  for my $o (['-O', 'only=spf'], ['-O', "spfallow=$dir/allow"], ['-O', 'only=bogus'], ['-O', 'spfallow=']) {
    my ($rc, undef, $err) = run_cmd(argv => [$bin, '-c', $cdb, '-E', 'greylist', '-G', "$dir/grey", @$o, 'true']);
    is($rc, 100, "-E greylist @$o without -E spf (or a bad value): usage");
  }
};

done_testing;
