#!/usr/bin/perl
# rcptchecks' greylisting (-E greylist, greylist.h) in front of exim4
# -bs, on rcptchecks' own pipes, the client's address given as tcpserver
# gives it (TCPREMOTEIP), so that networks can be chosen: a first
# attempt deferred with 451 4.7.1 and when to retry, too early deferred
# again, a retry after the delay delivered, another /24 a new triplet
# and the same /24 the same, /64 grouping for IPv6 and other prefix
# lengths, the auto-allow-list, each skip rule (RELAYCLIENT, AUTH, a
# DNSWL score, a sender access list OK, the selective options by rDNS
# class and DNSBL score), warn-only, expiry (stale triplets new again,
# greydb expire), and a store that cannot be opened or is damaged: the
# mail passes and the reason is logged; mxguard-report's figures.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 ();
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
my $greydb = "$top/rcptchecks/greydb";
plan skip_all => "$bin not built" unless -x $bin && -x $greydb;

my $dir = tmpdir();
my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\nbob\@example.org\n", "$dir/r.cdb");
make_cdb(senders => "friend\@good.example OK\n", "$dir/s.cdb");
my $mta = exim_child(auth => 1);
my $n = 0;
my $logs = '';    # every session's log, for mxguard-report

# one session: EHLO, MAIL FROM:<from>, RCPT TO:<rcpt> (and the data when
# the RCPT passed and data => 1): (RCPT's reply, rcptchecks' log)
sub session {
  my (%a) = @_;
  my $store = $a{store} // "$dir/grey";
  my @opts = ('-E', 'greylist', '-G', $store, '-I', $a{delay} // 2, @{ $a{opts} || [] });
  my $conv = "EHLO client.example\r\n";
  $conv .= 'AUTH PLAIN ' . MIME::Base64::encode_base64("\0" . $mta->auth_user . "\0" . $mta->auth_password, '') . "\r\n" if $a{auth};
  $conv .= "MAIL FROM:<" . ($a{from} // 'sender@remote.example') . ">\r\nRCPT TO:<" . ($a{rcpt} // 'alice@example.org') . ">\r\n";
  $conv .= "DATA\r\nSubject: greylisting " . ++$n . "\r\n\r\nbody\r\n.\r\n" if $a{data};
  $conv .= "QUIT\r\n";
  my ($rc, $out, $err) = run_cmd(argv => [$bin, '-c', $cdb, '-d', '0', '-u', '0', @opts, @{ $mta->argv }],
    env => { TCPREMOTEIP => $a{ip} // '192.0.2.7', RELAYCLIENT => undef, RBLSCORE => undef, RBLLATE => undef,
             SMTPDELAY_CLASS => undef, %{ $a{env} || {} } },
    stdin => $conv, timeout => 30);
  is($rc, 0, 'rcptchecks exits 0') or diag $err;
  $logs .= $err;
  my @r = grep { /^\d{3} / } split /\r\n/, $out;
  # replies: 220, EHLO, [AUTH], MAIL, RCPT
  my $rcpt = $r[$a{auth} ? 4 : 3] // '';
  return ($rcpt, $err, $out);
}
sub grey_word { my ($log) = @_; return $log =~ /rcpt=<[^>]*> result=\S+(?: dryrun=1)? delay=[\d.]+ greylist=(\S+)$/m ? $1 : '' }
# waits out the delay of a triplet first seen at $t0 (a retry must come
# later than that: no shorter way)
sub after { my ($t0, $d) = @_; my $left = $t0 + $d + 0.2 - time; sleep $left if $left > 0 }

subtest 'first attempt deferred, too early deferred again, retry after the delay delivered' => sub {
  my $t0 = time;
  my ($r, $log) = session(from => 'First@Sender.Example', delay => 6);
  like($r, qr/^451 4\.7\.1 Greylisted: please try again in [1-6] seconds$/, 'first attempt: 451 4.7.1 with when to retry');
  like($log, qr/rcpt=<alice\@example\.org> result=greylisted delay=0\.000 greylist=new$/m, 'logged: result=greylisted greylist=new');
  ($r, $log) = session(from => 'first@sender.example', delay => 6);
  like($r, qr/^451 4\.7\.1 /, 'too early (the sender in another case: the same triplet): deferred again');
  is(grey_word($log), 'early', 'greylist=early');
  after($t0, 6);
  my $before = () = $mta->messages;
  ($r, $log) = session(from => 'first@sender.example', delay => 6, data => 1);
  like($r, qr/^250 /, 'retry after the delay: accepted');
  like($log, qr/result=known delay=[\d.]+ greylist=retried$/m, 'greylist=retried');
  is($mta->wait_messages($before + 1), $before + 1, 'the retried message is delivered');
  ($r, $log) = session(from => 'first@sender.example', delay => 6);
  like($r, qr/^250 /, 'later: passes at once');
  is(grey_word($log), 'known', 'greylist=known');
  ($r, $log) = session(from => 'first@sender.example', delay => 6, ip => '192.0.2.200');
  like($r, qr/^250 /, 'another address of the same /24: the same triplet');
  ($r, $log) = session(from => 'first@sender.example', delay => 6, ip => '192.0.3.7');
  like($r, qr/^451 4\.7\.1 /, 'another /24: a new triplet, deferred');
  is(grey_word($log), 'new', 'greylist=new');
  ($r, $log) = session(from => 'first@sender.example', delay => 6, rcpt => 'bob@example.org');
  like($r, qr/^451 /, 'another recipient: a new triplet');
  ($r, $log) = session(from => 'first@sender.example', delay => 6, rcpt => 'nobody@example.org');
  like($r, qr/^550 5\.1\.1 /, 'an unknown recipient is refused as ever, not greylisted');
  unlike($log, qr/greylist=/, 'and meets no greylisting');
};

subtest 'IPv6: /64 by default, other prefix lengths by -O' => sub {
  my $t0 = time;
  my ($r, $log) = session(ip => '2001:db8:1:2::5', from => 'six@sender.example');
  like($r, qr/^451 4\.7\.1 /, 'first attempt from 2001:db8:1:2::5 deferred');
  after($t0, 2);
  ($r, $log) = session(ip => '2001:db8:1:2:aaaa::99', from => 'six@sender.example');
  like($r, qr/^250 /, 'the retry from another address of the /64 passes');
  ($r, $log) = session(ip => '2001:db8:1:3::5', from => 'six@sender.example');
  like($r, qr/^451 /, 'another /64: a new triplet');
  my ($out) = (run_cmd(argv => [$greydb, '-G', "$dir/grey", 'dump']))[1];
  like($out, qr{^2001:db8:1:2::/64 six\@sender\.example alice\@example\.org \d+ \d+ 2$}m, 'greydb dump: the /64 triplet, passed, seen twice');
  like($out, qr{^192\.0\.2\.0/24 first\@sender\.example alice\@example\.org }m, 'and the /24 one');

  ($r, $log) = session(store => "$dir/grey32", opts => ['-O', 'ipv4=32', '-O', 'ipv6=48'], ip => '192.0.2.7', from => 'p@sender.example');
  like($r, qr/^451 /, '-O ipv4=32: first attempt deferred');
  ($r, $log) = session(store => "$dir/grey32", opts => ['-O', 'ipv4=32', '-O', 'ipv6=48'], ip => '192.0.2.8', from => 'p@sender.example', delay => 0);
  like($r, qr/^451 /, 'the neighbour is another network, even with no delay');
  ($out) = (run_cmd(argv => [$greydb, '-G', "$dir/grey32", 'dump']))[1];
  like($out, qr{^192\.0\.2\.8/32 }m, 'networks of /32');
};

subtest 'auto-allow-list: a network with N passes passes outright' => sub {
  my @o = (store => "$dir/greyauto", opts => ['-O', 'autoallow=2'], ip => '198.51.100.9');
  my $t0 = time;
  session(@o, from => "a1\@bulk.example");
  session(@o, from => "a2\@bulk.example");
  after($t0, 2);
  my ($r, $log) = session(@o, from => "a1\@bulk.example");
  like($r, qr/^250 /, 'first retry passes');
  ($r, $log) = session(@o, from => "new\@bulk.example");
  like($r, qr/^451 /, 'after one pass, a new sender from the network is still deferred');
  ($r, $log) = session(@o, from => "a2\@bulk.example");
  is(grey_word($log), 'retried', 'second retry passes');
  ($r, $log) = session(@o, from => "third\@other.example", ip => '198.51.100.77');
  like($r, qr/^250 /, 'two passes: a new triplet from the network is accepted at once');
  is(grey_word($log), 'allowed', 'greylist=allowed');
  ($r, $log) = session(@o, from => "third\@other.example", ip => '198.51.101.77');
  like($r, qr/^451 /, 'not the next network');
};

subtest 'never greylisted: RELAYCLIENT, AUTH, DNSWL, sender access list OK' => sub {
  my ($r, $log) = session(from => 'relay@sender.example', env => { RELAYCLIENT => '' });
  like($r, qr/^250 /, 'RELAYCLIENT: accepted');
  unlike($log, qr/greylist=/, 'and no greylisting');
  ($r, $log) = session(from => 'auth@sender.example', auth => 1);
  like($r, qr/^250 /, 'after AUTH: accepted');
  unlike($log, qr/greylist=/, 'and no greylisting');
  ($r, $log) = session(from => 'wl@sender.example', env => { RBLSCORE => '-5' });
  like($r, qr/^250 /, 'RBLSCORE -5 (a DNSWL listing): accepted');
  is(grey_word($log), 'dnswl', 'greylist=dnswl');
  ($r, $log) = session(from => 'wl2@sender.example', env => { RBLSCORE => '-5' }, opts => ['-O', 'dnswl=-10']);
  like($r, qr/^451 /, '-O dnswl=-10: a score of -5 no longer enough');
  ($r, $log) = session(from => 'friend@good.example', opts => ['-S', "$dir/s.cdb"]);
  like($r, qr/^250 /, 'a sender the access list says OK for: accepted');
  is(grey_word($log), 'sender-ok', 'greylist=sender-ok');
};

subtest 'selective: only the rDNS classes none and dynamic, only a DNSBL score above 0' => sub {
  my @rdns = (opts => ['-O', 'only=rdns']);
  my ($r, $log) = session(@rdns, from => 'n1@sender.example', env => { SMTPDELAY_CLASS => 'named' });
  like($r, qr/^250 /, 'only=rdns: a named client passes');
  is(grey_word($log), 'unselected', 'greylist=unselected');
  ($r, $log) = session(@rdns, from => 'n2@sender.example', env => { SMTPDELAY_CLASS => 'dynamic' });
  like($r, qr/^451 /, 'a dynamic one is greylisted');
  ($r, $log) = session(@rdns, from => 'n3@sender.example', env => { SMTPDELAY_CLASS => 'none' });
  like($r, qr/^451 /, 'one without a name too');
  my @bl = (opts => ['-O', 'only=dnsbl']);
  ($r, $log) = session(@bl, from => 'b1@sender.example', env => { RBLSCORE => '0' });
  like($r, qr/^250 /, 'only=dnsbl: a score of 0 passes');
  ($r, $log) = session(@bl, from => 'b2@sender.example', env => { RBLSCORE => '2' });
  like($r, qr/^451 /, 'a score of 2 is greylisted');
  ($r, $log) = session(opts => ['-O', 'only=rdns+dnsbl'], from => 'b3@sender.example', env => { RBLSCORE => '1', SMTPDELAY_CLASS => 'named' });
  like($r, qr/^451 /, 'only=rdns+dnsbl: either cause is enough');
};

subtest '100 sessions at once on one new triplet: one record, every sighting counted' => sub {
  # each its own process on the same LMDB store, a delay none outlasts
  my @jobs = map {
    start_cmd(argv => [$bin, '-c', $cdb, '-d', '0', '-u', '0', '-E', 'greylist', '-G', "$dir/greyburst", '-I', '600', @{ $mta->argv }],
      env => { TCPREMOTEIP => '203.0.113.9', RELAYCLIENT => undef, RBLSCORE => undef, SMTPDELAY_CLASS => undef },
      stdin => "EHLO c.example\r\nMAIL FROM:<burst\@sender.example>\r\nRCPT TO:<alice\@example.org>\r\nQUIT\r\n", timeout => 60)
  } 1 .. 100;
  my @words = map { my ($rc, $out, $err) = $_->finish; $err =~ /greylist=(\w+)$/m ? $1 : 'none' } @jobs;
  is(scalar(grep { $_ eq 'new' } @words), 1, 'one session saw it new');
  is(scalar(grep { $_ eq 'early' } @words), 99, 'the 99 others too early') or diag "@words";
  my ($rc, $out) = run_cmd(argv => [$greydb, '-G', "$dir/greyburst", 'dump']);
  like($out, qr{\A203\.0\.113\.0/24 burst\@sender\.example alice\@example\.org \d+ 0 100\n\z}, 'one record, seen 100 times');
};

subtest 'warn-only: -W greylist logs and passes' => sub {
  my ($r, $log) = session(opts => ['-W', 'greylist'], from => 'warn@sender.example');
  like($r, qr/^250 /, 'accepted');
  like($log, qr/result=greylisted dryrun=1 delay=[\d.]+ greylist=new$/m, 'logged as a dry run');
};

subtest 'expiry: stale triplets are new again; greydb expire' => sub {
  my $now = time;
  my $old = int($now) - 3 * 86400;
  my $load = "192.0.2.0/24 stale\@sender.example alice\@example.org $old 0 1\n"
           . "192.0.2.0/24 gone\@sender.example alice\@example.org $old " . ($old + 10) . " 4\n"
           . "192.0.2.0/24 kept\@sender.example alice\@example.org " . (int($now) - 600) . " " . (int($now) - 300) . " 2\n";
  my ($rc, $out, $err) = run_cmd(argv => [$greydb, '-G', "$dir/greyexp", 'load'], stdin => $load);
  is($rc, 0, 'greydb load') or diag $err;
  my @o = (store => "$dir/greyexp");
  my ($r, $log) = session(@o, from => 'stale@sender.example');
  like($r, qr/^451 /, 'not retried within the window (2 days): deferred as new');
  is(grey_word($log), 'new', 'greylist=new');
  ($r, $log) = session(@o, from => 'gone@sender.example', opts => ['-O', 'lifetime=86400']);
  like($r, qr/^451 /, 'a pass older than the lifetime: deferred as new');
  ($r, $log) = session(@o, from => 'kept@sender.example');
  like($r, qr/^250 /, 'a recent pass: accepted');
  run_cmd(argv => [$greydb, '-G', "$dir/greyexp", 'load'], stdin => $load);
  ($rc, $out, $err) = run_cmd(argv => [$greydb, '-G', "$dir/greyexp", 'expire']);
  is($rc, 0, 'greydb expire');
  like($err, qr/expired 1 records/, 'one record stale (the pass within 35 days stays)');
  ($out) = (run_cmd(argv => [$greydb, '-G', "$dir/greyexp", 'dump']))[1];
  unlike($out, qr/stale\@/, 'the triplet never retried is gone');
  like($out, qr/kept\@/, 'the recent one stays');
};

subtest 'a store that cannot be opened: the mail passes, the reason is logged' => sub {
  open my $fh, '>', "$dir/notadir" or die; close $fh;
  my $before = () = $mta->messages;
  my ($r, $log) = session(store => "$dir/notadir", from => 'broken@sender.example', data => 1);
  like($r, qr/^250 /, 'accepted');
  is(grey_word($log), 'error', 'greylist=error');
  like($log, qr/warning: pid \d+ ip 192\.0\.2\.7 greylist-store=lmdb error=unable to open \Q$dir\E\/notadir: /m, 'the reason, logged');
  is($mta->wait_messages($before + 1), $before + 1, 'and the message delivered');
  # a store whose data file is not LMDB's (damaged, or another file)
  mkdir "$dir/damaged" or die;
  open $fh, '>', "$dir/damaged/data.mdb" or die; print {$fh} "\0" x 16384; close $fh;
  ($r, $log) = session(store => "$dir/damaged", from => 'damaged@sender.example');
  like($r, qr/^250 /, 'a damaged store: accepted');
  like($log, qr/greylist-store=lmdb error=unable to open \Q$dir\E\/damaged: .*\n.*greylist=error$/m, 'greylist=error, and why');
};

subtest 'mxguard-report: greylisting per day' => sub {
  # multilog's stamps: one day for every line
  my $stamp = sprintf '@4000000065%06x00000000', 0;
  my $text = join '', map { "$stamp $_\n" } grep { /^rcptchecks: / } split /\n/, $logs;
  my $new = () = $text =~ / greylist=new$/mg;
  my $early = () = $text =~ / greylist=early$/mg;
  my $retried = () = $text =~ / greylist=retried$/mg;
  ok($new > 5 && $retried >= 4, "the sessions above: $new deferred, $early early, $retried retried");
  my ($rc, $out, $err) = run_cmd(argv => ["$top/report/mxguard-report"], stdin => $text);
  is($rc, 0, 'mxguard-report') or diag $err;
  my ($section) = $out =~ /^(GREYLISTING PER DAY \(rcptchecks\)\n.*?)(?:\n\n|\z)/ms;
  ok($section, 'has the greylisting section') or diag $out;
  my $share = sprintf '%.1f%%', 100 * ($new - $retried) / $new;
  like($section // '', qr/^  all\s+$new\s+$early\s+$retried\s+\Q$share\E$/m, "all: $new deferred, $early early, $retried passed, $share never back");
  like($out, qr{rcptchecks/rcpt-greylisted}, 'deferrals among the refusals');
};

subtest 'usage' => sub {
  my ($rc, $out, $err) = run_cmd(argv => [$bin, '-E', 'greylist', @{ $mta->argv }], env => { TCPREMOTEIP => '192.0.2.7' }, stdin => '');
  is($rc, 100, 'greylisting without a store: usage error');
  like($err, qr/needs a store/, 'saying so');
  ($rc) = run_cmd(argv => [$bin, '-G', "$dir/grey", '-O', 'ipv4=33', '-E', 'greylist', @{ $mta->argv }], stdin => '');
  is($rc, 100, '-O ipv4=33: usage error');
};

done_testing;
