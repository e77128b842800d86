#!/usr/bin/perl
# smtp-screen's DNS tests and its memory, against a real tinydns:
#
#  - a differential with the classic chain (tcpserver -p, rblenv,
#    smtp-delay, the same zones and clients from their own 127.0.0.x
#    addresses): the same class, host, score, lists and RBLSMTPD for
#    every client, early talkers (-e / smtp-delay -r) included;
#  - the wait by rDNS class (named shorter than none); a PTR whose A
#    is another address is class none; TCPREMOTEHOST when confirmed;
#  - the DNSWL skip (handed off once the lookups are in, not after the
#    wait); a configuration-fault answer logged and never a listing; a
#    zone that never answers counts as not listed within the wait, and
#    so does every lookup when nothing listens at the resolver's address;
#  - the cache (-f): a second connection skips the teaser and the wait;
#    each test's lifetime in the file (pregreet a day, DNSBL the answers'
#    TTL or -j, rDNS -J); an expired DNSBL pass asks the lists again and
#    honours a listing that appeared meanwhile; SIGTERM saves, a restart
#    reads it back; a damaged file is warned about, never a refusal; a
#    file holding some tests only never lets the others be skipped.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;
use MXScreen;

my $top = top();
my $ss = "$top/smtp-screen/smtp-screen";
plan skip_all => "$ss not built" unless -x $ss;

my %ip;
for my $who (qw(named dyn noname liar listed multi allow allowlisted fault clean early
                c1 c2 c3 c4 c5 c6 silent other)) {
  $ip{$who} = loopback_ip();
}
sub rev { join '.', reverse split /\./, $_[0] }
sub txt { my ($name, $text) = @_; (my $t = $text) =~ s/:/\\072/g; "'$name:$t" }
my %name = (named => 'mail.corp.example', dyn => 'dyn-1-2.isp.example', c1 => 'mx1.corp.example',
  c2 => 'mx2.corp.example', c3 => 'mx3.corp.example', c4 => 'mx4.corp.example',
  c5 => 'mx5.corp.example', c6 => 'mx6.corp.example', listed => 'mx.listed.example', allow => 'mx.allow.example');

sub data {
  my (@extra) = @_;
  return join '', map { "$_\n" } '.in-addr.arpa::', '.corp.example::', '.isp.example::', '.listed.example::',
    '.allow.example::', (map { ".${_}::" } qw(zen.example bl.example wl.example bad.example)),
    (map { "=$name{$_}:$ip{$_}" } sort keys %name),
    '^' . rev($ip{liar}) . '.in-addr.arpa:liar.corp.example', "+liar.corp.example:$ip{other}",
    '+' . rev($ip{listed}) . '.zen.example:127.0.0.2', txt(rev($ip{listed}) . '.zen.example', 'Listed: see https://zen.example/'),
    '+' . rev($ip{multi}) . '.zen.example:127.0.0.4', txt(rev($ip{multi}) . '.zen.example', 'zen says no'),
    '+' . rev($ip{multi}) . '.bl.example:127.0.0.2', txt(rev($ip{multi}) . '.bl.example', 'bl says no'),
    '+' . rev($ip{allow}) . '.wl.example:127.0.10.2:40',
    '+' . rev($ip{allowlisted}) . '.wl.example:127.0.10.2', '+' . rev($ip{allowlisted}) . '.zen.example:127.0.0.2',
    '+' . rev($ip{fault}) . '.bad.example:127.255.255.254',
    @extra;
}
my $dns = start_tinydns(data => data());

my @zones = ('-r', 'zen.example=127.0.0.[2..11]*3', '-r', 'bl.example*2', '-r', 'bad.example', '-a', 'wl.example*-5');
my $DUMP = q{env | grep -E '^(TCPREMOTEHOST|SMTPDELAY_CLASS|SMTPDELAY_RESULT|RBLSCORE|RBLLISTS|RBLSMTPD|RBLLATE)=' | sort};

# MXScreen's, with this file's defaults: the child dumps the verdicts,
# the resolver is the tinydns
sub start_dns_screen {
  my (%a) = @_;
  return start_screen(%a, argv => $a{argv} || ['/bin/sh', '-c', $DUMP],
    env => { DNSCACHEIP => $a{resolver} // $dns->ip });
}
# one session: (the teaser if any, what the chain printed, seconds to the first byte)
sub session {
  my ($srv, $src, %a) = @_;
  my $t0 = time;
  my $c = smtp_connect($srv->ip, $srv->port, local_ip => $src, timeout => 10);
  $c->send($a{early}) if defined $a{early};
  my $first = $c->read_line(10) // '';
  my $t1 = time;
  my ($rest) = $c->read_all(10);
  $c->close;
  my $all = $first . ($rest // '');
  my $teaser = $all =~ s/\A220-mx\.example\.org\r\n// ? 1 : 0;
  return ($teaser, $all, $t1 - $t0);
}
sub stop_term {
  my ($s) = @_;
  kill 'TERM', $s->pid;
  wait_until(10, sub { !MXTest::_alive($s->pid) }, 'smtp-screen stops on SIGTERM');
}

# --- a differential with the classic chain ----------------------------------
{
  my @delay = ('-n', '1.2', '-y', '0.8', '-k', '0.4');
  my %env = (RELAYCLIENT => undef, RBLSMTPD => undef, RBLLATE => undef, SMTPDELAY => undef, DNSCACHEIP => $dns->ip);
  my $t = start_tcpserver(opts => ['-p', '-R', '-l', 'mx.example.org'], env => \%env,
    argv => ["$top/rblenv/rblenv", '-t', '2', @zones, "$top/smtp-delay/smtp-delay", @delay, '/bin/sh', '-c', $DUMP]);
  # the early talkers' pair waits 5 s in every class, with a DNS
  # deadline of 5 s: the client talks once tinydns has answered all its
  # lookups, and a loaded machine then still has seconds before the wait
  # ends (talking after it would be a pass, not early)
  my @delay5 = ('-n', '5', '-y', '5', '-k', '5');
  my $te = start_tcpserver(opts => ['-p', '-R', '-l', 'mx.example.org'], env => \%env,
    argv => ["$top/rblenv/rblenv", '-t', '5', @zones, "$top/smtp-delay/smtp-delay", '-r', @delay5, '/bin/sh', '-c', $DUMP]);
  my $s = start_dns_screen(opts => ['-l', 'mx.example.org', '-t', '2', @delay, @zones]);
  my $se = start_dns_screen(opts => ['-l', 'mx.example.org', '-e', '-t', '5', @delay5, @zones]);
  for my $who (qw(named dyn noname liar listed multi allow allowlisted fault clean)) {
    my (undef, $classic) = session($t, $ip{$who});
    my ($teaser, $screen) = session($s, $ip{$who});
    ok($teaser, "$who: the teaser first");
    is($screen, $classic, "$who: the same verdicts as tcpserver -p, rblenv and smtp-delay");
  }
  # early talkers, handed on: talk after the DNS answers are in, before any wait ends
  # (the lookups of a client, as tinydns logs them: its PTR, the A of
  # the name, each zone's A, and the TXT of a listing)
  my %asks = (named => [['000c', rev($ip{named}) . '.in-addr.arpa'], ['0001', $name{named}]],
    listed => [['000c', rev($ip{listed}) . '.in-addr.arpa'], ['0001', $name{listed}], ['0010', rev($ip{listed}) . '.zen.example']]);
  for my $who (qw(named listed)) {
    my (undef, $classic) = session($te, $ip{$who}, early => "EHLO early.test\r\n");
    my $seen = length($dns->log_text // '');
    my @asks = (@{ $asks{$who} }, map { ['0001', rev($ip{$who}) . ".$_"] } qw(zen.example bl.example bad.example wl.example));
    my $c = smtp_connect($se->ip, $se->port, local_ip => $ip{$who});
    $c->read_line(5);
    # talk once tinydns has answered every lookup of this connection (the
    # log after what the classic session left), not after a fixed pause
    wait_until(10, sub {
      my $new = substr($dns->log_text // '', $seen);
      !grep { my ($type, $q) = @$_; $new !~ /^\S+ \+ \Q$type\E \Q$q\E$/m } @asks;
    }, "$who: tinydns answered its lookups");
    # the last answer is logged just before it is sent: a moment for it
    # to reach smtp-screen, well inside the 5 s wait
    sleep 0.3;
    $c->send("EHLO early.test\r\n");
    my ($screen) = $c->read_all(10);
    is($screen, $classic, "$who, an early talker: the same verdicts as smtp-delay -r (RBLSMTPD, SMTPDELAY_RESULT=early)");
  }
  my (undef, $named) = session($s, $ip{named});
  like($named, qr/^TCPREMOTEHOST=mail\.corp\.example$/m, 'named: TCPREMOTEHOST, forward-confirmed');
  logged($s, $ip{liar}, qr/ rdns=none /, 'liar: a PTR that does not point back is class none');
  logged($s, $ip{fault}, qr/^smtp-screen: warning: .* zone=bad\.example answer=127\.255\.255\.254 reason=configuration fault/m, 'a 127.255.255.x answer: logged as a configuration fault');
  logged($s, $ip{fault}, qr/ dnsbl=clean score=0 waited=/, '... and never a listing');
  logged($s, $ip{listed}, qr/ pregreet=pass rdns=named dnsbl=refused score=3 lists=zen\.example waited=0\.\d{3} result=pass/, 'listed: the log line has each verdict');
  logged($s, $ip{named}, qr/ pregreet=pass rdns=named dnsbl=clean score=0 waited=0\.\d{3} result=pass/, 'named: its own wait (-k 0.4)');
  logged($s, $ip{allow}, qr/ skip=dnswl rdns=named dnsbl=allowed score=-5 lists=wl\.example waited=\d+\.\d{3} result=pass/, 'allow: logged the DNSWL skip');
  $_->stop for $t, $te, $s, $se;
  # the skip itself, in an instance whose named wait is 3 s: handed off
  # as soon as the answers are in, long before the wait would end (a
  # loaded machine may take more than the 0.4 s of -k 0.4 to answer)
  my $k3 = start_dns_screen(opts => ['-l', 'mx.example.org', '-t', '2', '-n', '3', '-y', '3', '-k', '3', @zones]);
  session($k3, $ip{allow});
  logged($k3, $ip{allow}, qr/ skip=dnswl rdns=named dnsbl=allowed score=-5 lists=wl\.example waited=[01]\.\d{3} result=pass/, 'allow: the DNSWL score skips the wait (-k 3, waited under 2 s)');
  $k3->stop;
}

# --- the wait: by class; nothing answers ------------------------------------
{
  my $s = start_dns_screen(opts => ['-l', 'mx.example.org', '-n', '2', '-y', '1', '-k', '0.2', @zones, '-r', 'silent.example']);
  my $t0 = time;
  my (undef, $none) = session($s, $ip{noname});
  my $tn = time - $t0;
  cmp_ok($tn, '>=', 1.9, sprintf 'class none waits -n 2 (%.2f s)', $tn);
  # < 5: room for a loaded machine; the zone that never answers counts
  # as not listed by the logged waited=2 below
  cmp_ok($tn, '<', 5, 'and no more: the zone that never answers counts as not listed within the wait');
  like($none, qr/^RBLSCORE=0$/m, 'the silent zone: not listed');
  logged($s, $ip{noname}, qr/ rdns=none dnsbl=clean score=0 unanswered=1 waited=2\.\d{3} result=pass/, 'the silent zone: logged unanswered');
  $s->stop;
  # a resolver address where nothing listens: within the wait, class none, listed nowhere
  my $q = start_dns_screen(resolver => loopback_ip(), opts => ['-l', 'mx.example.org', '-w', '0.5', @zones]);
  $t0 = time;
  my (undef, $o) = session($q, $ip{listed});
  # < 4 for -w 0.5: room for a loaded machine
  cmp_ok(time - $t0, '<', 4, 'no resolver answers: handed off within the wait');
  like($o, qr/^SMTPDELAY_CLASS=none$/m, 'no resolver answers: class none');
  like($o, qr/^RBLSCORE=0$/m, 'no resolver answers: not listed');
  unlike($o, qr/^RBLSMTPD=/m, 'no resolver answers: no RBLSMTPD');
  $q->stop;

  # -w 0 without -H: no teaser, no wait, but the PTR answer is waited
  # for (TCPREMOTEHOST comes from it, as from tcpserver without -H), up
  # to the DNS deadline (-t)
  my $z = start_dns_screen(opts => ['-l', 'mx.example.org', '-w', '0']);
  my ($teaser, $out) = session($z, $ip{named});
  ok(!$teaser, '-w 0: no teaser');
  like($out, qr/^TCPREMOTEHOST=\Q$name{named}\E$/m, '-w 0 without -H: the PTR answer waited for, TCPREMOTEHOST set');
  like($out, qr/^SMTPDELAY_CLASS=named$/m, '-w 0 without -H: the class known');
  $z->stop;
  $z = start_dns_screen(resolver => loopback_ip(), opts => ['-l', 'mx.example.org', '-w', '0', '-t', '0.6']);
  $t0 = time;
  ($teaser, $out) = session($z, $ip{named});
  my $took = time - $t0;
  ok($took >= 0.55 && $took < 3, sprintf('-w 0, no resolver answers: handed off at the DNS deadline -t 0.6 (%.2f s)', $took));
  like($out, qr/^SMTPDELAY_CLASS=none$/m, '-w 0, no resolver answers: class none');
  unlike($out, qr/^TCPREMOTEHOST=/m, '-w 0, no resolver answers: no TCPREMOTEHOST');
  $z->stop;
}

# --- -F patterns, read again on SIGHUP ---------------------------------------
{
  my $dir = tmpdir();
  open my $fh, '>', "$dir/patterns" or die; print $fh "# none yet\n"; close $fh;
  my $s = start_dns_screen(opts => ['-l', 'mx.example.org', '-w', '0.2', '-F', "$dir/patterns"], log => "$dir/log");
  my (undef, $out) = session($s, $ip{c6});
  like($out, qr/^SMTPDELAY_CLASS=named$/m, 'c6 (mx6.corp.example): named');
  open $fh, '>', "$dir/patterns" or die; print $fh "^mx6\\.corp\\.\n"; close $fh;
  kill 'HUP', $s->pid;
  wait_until(10, sub { $s->log_text =~ /patterns=\Q$dir\E\/patterns result=reopened/ }, 'SIGHUP: the patterns read again');
  (undef, $out) = session($s, $ip{c6});
  like($out, qr/^SMTPDELAY_CLASS=dynamic$/m, 'c6: dynamic by the new pattern');
  open $fh, '>', "$dir/patterns" or die; print $fh "(unclosed\n"; close $fh;
  kill 'HUP', $s->pid;
  wait_until(10, sub { $s->log_text =~ /the patterns in use are kept/ }, 'SIGHUP: a pattern that does not compile is warned about');
  (undef, $out) = session($s, $ip{c6});
  like($out, qr/^SMTPDELAY_CLASS=dynamic$/m, 'c6: the patterns in use kept');
  $s->stop;
}

# --- the cache ---------------------------------------------------------------
{
  my $dir = tmpdir();
  my $file = "$dir/screen.cache";
  # -j 10: c2's DNSBL pass must outlive a reload and a session on a
  # loaded machine, then expire; -J 30: its rDNS pass must hold well past
  # that
  my @opts = ('-l', 'mx.example.org', '-n', '1', '-y', '1', '-k', '1', '-f', $file, '-j', '10', '-J', '30', @zones);
  my $s = start_dns_screen(opts => \@opts, log => "$dir/log");
  my ($teaser, $out, $secs) = session($s, $ip{c1});
  ok($teaser, 'c1, first: the teaser');
  # < 0.9: before the 1 s wait ends, which a teaser sent late would follow
  cmp_ok($secs, '<', 0.9, sprintf 'c1, first: the teaser at once (%.3f s)', $secs);
  logged($s, $ip{c1}, qr/ pregreet=pass rdns=named dnsbl=clean score=0 waited=1\.\d{3} result=pass/, 'c1, first: the whole wait');
  ($teaser, $out, $secs) = session($s, $ip{c1});
  # (no client-side bound on the time to the first byte: the missing
  # teaser and the logged cache=hit ... waited=0.xxx say the cache worked)
  ok(!$teaser, sprintf 'c1, second: no teaser (first byte after %.3f s)', $secs);
  like($out, qr/^SMTPDELAY_CLASS=named\nSMTPDELAY_RESULT=pass$/m, 'c1, second: the class from the cache');
  like($out, qr/^RBLSCORE=0$/m, 'c1, second: the score from the cache');
  logged($s, $ip{c1}, qr/ cache=hit rdns=named,cached dnsbl=cached score=0 waited=0\.\d{3} result=pass/, 'c1, second: logged as a cache hit');

  # a listing that appears after a pass: honoured once the DNSBL pass (-j 10) expires
  session($s, $ip{c2});
  my $t2 = time;
  $dns->reload(data => data('+' . rev($ip{c2}) . '.zen.example:127.0.0.2', txt(rev($ip{c2}) . '.zen.example', 'c2 now listed')));
  ($teaser, $out) = session($s, $ip{c2});
  unlike($out, qr/^RBLSMTPD=/m, 'c2, listed after its pass: not refused while the pass holds');
  sleep 0.1 while time < $t2 + 10.2;
  ($teaser, $out, $secs) = session($s, $ip{c2});
  ok(!$teaser, 'c2, DNSBL pass expired: still no teaser (pregreet and rDNS passes hold)');
  like($out, qr/^RBLSMTPD=c2 now listed$/m, 'c2, DNSBL pass expired: the lists asked again, the new listing honoured');
  logged($s, $ip{c2}, qr/ cache=partial rdns=named,cached dnsbl=refused score=3 lists=zen\.example waited=0\.\d{3} result=pass/, 'c2: logged as a partial hit');

  stop_term($s);

  # the lifetimes, in an instance of their own whose passes outlive a loaded
  # machine's delays before the save (the file holds only passes still valid):
  # the DNSBL pass lives the lowest TTL of its answers (wl.example's 40 s, under -j 60);
  # a pass given between t0 and t1 (seconds) expires between int(t0) + L and int(t1) + L
  @opts = ('-l', 'mx.example.org', '-n', '1', '-y', '1', '-k', '1', '-f', $file, '-j', '60', '-J', '90', @zones);
  unlink $file;
  $s = start_dns_screen(opts => \@opts, log => "$dir/log1");
  my %when;
  for my $who (qw(allow c3)) {
    my $t0 = time;
    session($s, $ip{$who});
    $when{$who} = [int $t0, int time];
  }
  stop_term($s);
  my $text = slurp($file) // '';
  like($text, qr/\A# mxguard smtp-screen cache 1\n/, 'SIGTERM saved the file');
  my %exp;
  while ($text =~ /^(\S+) (\w+) (\d+) -?\d+$/mg) { $exp{"$1 $2"} = $3 }
  my $life = sub {
    my ($who, $test, $want, $what) = @_;
    my $e = $exp{"$ip{$who} $test"};
    my ($t0, $t1) = @{ $when{$who} };
    ok(defined $e && $e >= $t0 + $want && $e <= $t1 + $want, "$what (" . (defined $e ? $e - $t0 : 'none') . " s)");
  };
  $life->('c3', 'pregreet', 86400, 'pregreet: held a day');
  $life->('c3', 'dnsbl', 60, 'DNSBL: held -j 60 s (the NXDOMAIN TTL is longer)');
  $life->('c3', 'rdns', 90, 'rDNS: held -J 90 s (the PTR TTL is longer)');
  $life->('allow', 'dnsbl', 40, 'DNSBL: the lowest TTL of its answers (40 s) under -j');
  ok(!defined $exp{"$ip{allow} pregreet"}, 'the DNSWL skip holds no pregreet pass (the test did not run)');

  # restart: the file read back
  $s = start_dns_screen(opts => \@opts, log => "$dir/log2");
  ($teaser, $out, $secs) = session($s, $ip{c3});
  ok(!$teaser, 'after a restart: c3 handed off from the file, no teaser');
  logged($s, $ip{c3}, qr/ cache=(?:hit|partial) rdns=named,cached .* waited=0\.\d{3} /, 'after a restart: logged as a cache hit, no wait');
  stop_term($s);

  # a damaged file: warned about, the good lines kept, never a refusal
  # (expiries within -j and -J: a pass held longer than its cap is
  # dropped; far enough ahead that a loaded machine does not outlive them)
  my $now = int time;
  open my $fh, '>', $file or die;
  print $fh "# mxguard smtp-screen cache 1\n", "garbage line\n", "\x00\x01\x02 binary\n",
    "$ip{c4} pregreet " . ($now + 3600) . " 0\n", "$ip{c4} rdns " . ($now + 80) . " 2\n",
    "$ip{c4} dnsbl " . ($now + 50) . " 0\n", "$ip{c5} nosuchtest " . ($now + 3600) . " 0\n";
  close $fh;
  $s = start_dns_screen(opts => \@opts, log => "$dir/log3");
  wait_until(5, sub { $s->log_text =~ /^smtp-screen: warning: pid \d+ cache=\Q$file\E stored=3 damaged=3 reason=damaged lines skipped$/m }, 'a damaged file: warned') and pass('a damaged file: warned');
  ($teaser, $out, $secs) = session($s, $ip{c4});
  ok(!$teaser, 'a damaged file: its good lines still used');
  logged($s, $ip{c4}, qr/ cache=hit .* waited=0\.\d{3} /, 'a damaged file: logged as a cache hit, no wait');
  ($teaser, $out) = session($s, $ip{c5});
  ok($teaser, 'a damaged file: a client of a bad line is screened');
  stop_term($s);
  open $fh, '>', $file or die;
  print $fh "\x89PNG not a cache at all\n";
  close $fh;
  $s = start_dns_screen(opts => \@opts, log => "$dir/log4");
  wait_until(5, sub { $s->log_text =~ /^smtp-screen: warning: the cache \Q$file\E is not a cache file of this version: ignored/m }, 'a file of another kind: warned, ignored') and pass('a file of another kind: warned, ignored');
  ($teaser) = session($s, $ip{c4});
  ok($teaser, 'a file of another kind: nobody skips the tests');
  stop_term($s);

  # a file that holds some tests only: the others run
  $now = int time;
  open $fh, '>', $file or die;
  print $fh "# mxguard smtp-screen cache 1\n", "$ip{listed} pregreet " . ($now + 3600) . " 0\n", "$ip{listed} rdns " . ($now + 80) . " 2\n";
  close $fh;
  $s = start_dns_screen(opts => \@opts, log => "$dir/log5");
  ($teaser, $out, $secs) = session($s, $ip{listed});
  ok(!$teaser, 'pregreet and rDNS held: no teaser');
  like($out, qr/^RBLSMTPD=Listed: see https:\/\/zen\.example\/$/m, 'the DNSBL not held: asked, and the listing honoured');
  logged($s, $ip{listed}, qr/ cache=partial rdns=named,cached dnsbl=refused score=3 /, 'logged as a partial hit');
  stop_term($s);
}

done_testing();
