#!/usr/bin/perl
# rcptchecks end to end under the real tcpserver, with exim4 -bs behind
# it (on rcptchecks' pipes) and a CDB made by rcptchecks-make, driven by
# swaks and by the scripted client: known, unknown, extension and
# catch-all recipients, other domains left to exim, case, quoting,
# source routes and bare <postmaster>; unknown recipients never reach
# exim; pipelined sessions answered in command order; 10,000 RCPTs in
# one session; long lines, NUL and bare CR in commands, bare LF line
# ends; the DATA phase byte-exact (dot-stuffing, 50 MB), a bare LF next
# to the final dot refused; STARTTLS, CHUNKING and BINARYMIME filtered
# from EHLO (exim advertises them, the client does not see them);
# trust after AUTH (exim with an authenticator), and what an overlong
# AUTH line does; RELAYCLIENT; RBLLATE; the tarpit's timing (as ratios,
# with tolerance), one command at a time and pipelined; a child that
# dies or never answers, a client that leaves, an idle client; dry
# run; usage errors and a missing database. Also RFC 822 comments in a
# domain, which exim drops and rcptchecks must not take for another
# domain.
use strict;
use warnings;
use Test::More;
use Digest::SHA;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
my $make = "$top/rcptchecks/rcptchecks-make";
plan skip_all => "$bin not built" unless -x $bin && -x $make;

# ---------------------------------------------------------------------------
# the recipient database

my $dbdir = tmpdir();
my $cdb = "$dbdir/recipients.cdb";
make_cdb(recipients => <<'LIST', $cdb);
# example.org: only these exist
example.org
alice@example.org
bob-default@example.org
carol-list-default@example.org
postmaster@example.org
abuse@example.org
# example.net: everything exists
@example.net
LIST

my $NOMAILBOX = 'no mailbox here by that name';

# ---------------------------------------------------------------------------
# helpers

# a tcpserver running rcptchecks -c $cdb @opts in front of exim4 -bs
# (or of $a{child}); RELAYCLIENT and RBLLATE only as the test sets them
sub chain {
  my (%a) = @_;
  my $mta = $a{mta} // exim_child();
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'],
    env => { RELAYCLIENT => undef, RBLLATE => undef, %{ $a{env} || {} } },
    argv => [$bin, '-c', $a{cdb} // $cdb, @{ $a{opts} || [] }, @{ $a{child} // $mta->argv }]);
  return ($s, $mta);
}

# a scripted client from a new loopback address (so that the log lines
# of its session can be told apart): (client, its address)
sub client {
  my ($s, %a) = @_;
  my $ip = loopback_ip();
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => $a{timeout} // 10);
  return ($c, $ip);
}

# one command, its whole reply

# greeting, EHLO and MAIL, each checked
sub open_session {
  my ($c, $name) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  $c->expect(qr/^220 /, 10, "$name: greeting");
  like($c->cmd('EHLO client.test'), qr/^250[ -]/, "$name: EHLO 250");
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, "$name: MAIL 250");
}

# the log lines rcptchecks wrote for a client
sub rc_lines {
  my ($s, $ip) = @_;
  return grep { /^rcptchecks: \w+: pid \d+ ip \Q$ip\E / } split /\n/, $s->log_text;
}

# rcptchecks' session line for a client, waited for (it is written when
# the session is over)
sub session_line {
  my ($s, $ip, $timeout) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  my $re = qr/^rcptchecks: info: pid \d+ ip \Q$ip\E helo=<[^>]*> from=<[^>]*> rcpts=/;
  wait_until($timeout // 15, sub { grep { $_ =~ $re } rc_lines($s, $ip) }, "the session line for $ip");
  my @l = grep { $_ =~ $re } rc_lines($s, $ip);
  return $l[-1] // '(no session line)';
}

# the exit code of a client's session, from tcpserver's "end" line
# (waited for; tcpserver logs the raw wait status)
sub end_status {
  my ($s, $ip, $timeout) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  my $pid;
  my $status;
  wait_until($timeout // 15, sub {
    my $log = $s->log_text;
    ($pid) = $log =~ /^tcpserver: pid (\d+) from \Q$ip\E$/m or return 0;
    ($status) = $log =~ /^tcpserver: end \Q$pid\E status (\d+)$/m;
    return defined $status;
  }, "tcpserver logs the end of the session of $ip");
  return defined $status ? ($status & 127 ? 128 + ($status & 127) : $status >> 8) : undef;
}

# the addresses exim delivered to (its main log), lower-cased, quotes
# removed, sorted
sub delivered {
  my ($mta) = @_;
  my @to;
  for (split /\n/, $mta->log_text) {
    push @to, lc($2 // $1) =~ tr/"//dr if /^\S+ \S+ \S+ [=-]> (\S+)(?: <([^>]*)>)? R=/;
  }
  return [sort @to];
}

# waits until exim has completed $n messages
sub completed {
  my ($mta, $n, $timeout) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  return wait_until($timeout // 20, sub { (() = $mta->log_text =~ / Completed$/mg) >= $n },
    "exim completes $n message(s)") || diag("exim's logs:\n" . $mta->log_text);
}

# the chain's processes still running: rcptchecks and exim (and exim's
# delivery processes) of the tcpserver in front of this exim_child, whose
# configuration path is in their command lines; tcpserver itself is not
# counted
sub leftovers {
  my ($mta) = @_;
  my $config = $mta->argv->[2];
  my @p;
  opendir my $dh, '/proc' or die "/proc: $!";
  for my $pid (grep { /^\d+$/ } readdir $dh) {
    my @argv = split /\0/, slurp("/proc/$pid/cmdline") // next;
    next unless @argv && $argv[0] ne '/usr/bin/tcpserver' && grep { $_ eq $config } @argv;
    my $stat = slurp("/proc/$pid/stat") // next;
    next if substr($stat, rindex($stat, ')') + 2, 1) eq 'Z';
    push @p, "$pid @argv[0 .. 1]";
  }
  return @p;
}

# a message in SMTP form, up to the final dot (the line end is cmd's)
sub message {
  my ($subject, @lines) = @_;
  return join "\r\n", "Subject: $subject", 'From: sender@other.test', '', @lines, '.';
}

# ---------------------------------------------------------------------------

subtest 'recipients: known, unknown, extensions, catch-all, other domains' => sub {
  my ($s, $mta) = chain(opts => ['-u', '0.001', '-M', '50']);
  my ($c, $ip) = client($s);
  open_session($c, 'scripted');
  my $unknown = sub { qr/^550 5\.1\.1 <\Q$_[0]\E>: \Q$NOMAILBOX\E\r\n\z/i };
  my $accepted = qr/^250 Accepted\r\n\z/;
  my $syntax = qr/^501 5\.1\.3 bad recipient address syntax\r\n\z/;
  my @cases = (
    ['<alice@example.org>', $accepted, 'an exact address'],
    ['<nobody@example.org>', $unknown->('nobody@example.org'), 'an unknown address of a local domain: 550 5.1.1'],
    ['<bob-anything@example.org>', $accepted, 'bob-anything through bob-default'],
    ['<bob@example.org>', $unknown->('bob@example.org'), 'bob-default does not make bob'],
    ['<carol-list-x-y@example.org>', $accepted, 'two extension levels: carol-list-x-y through carol-list-default'],
    ['<carol-other@example.org>', $unknown->('carol-other@example.org'), 'carol-other: no carol-default, no carol'],
    ['<alice-ext@example.org>', $accepted, 'alice-ext through the user alice'],
    ['<anyone@example.net>', $accepted, 'the catch-all @example.net'],
    ['<BOB-Upper@EXAMPLE.ORG>', $accepted, 'domain and local part in upper case'],
    ['<Nobody2@Example.ORG>', $unknown->('nobody2@example.org'), 'an unknown address in mixed case'],
    # forms qmail-smtpd and exim read differently: refused (t/data/rcpt-forms has them all)
    ['<nobody3@example.org.>', $syntax, 'a trailing dot: 501'],
    # read as both deliver them (rcptaddr.h): checked as that address
    ['<"bob-quoted"@example.org>', $accepted, 'a quoted dot-atom: bob-quoted, through bob-default'],
    ['<"no body"@example.org>', $syntax, 'a quoted blank: 501'],
    ['<@relay.example,@hop.example:bob-routed@example.org>', $accepted, 'a source route: the mailbox after it, bob-routed'],
    ['<@relay.example:nobody4@example.org>', $unknown->('nobody4@example.org'), 'an unknown address behind a source route: 550 5.1.1'],
    ['<"nobody7"@example.org>', $unknown->('nobody7@example.org'), 'an unknown quoted local part: 550 5.1.1'],
    ['<x@other.test>', qr/^550 relay not permitted\r\n\z/, "another domain goes to exim: exim's relay refusal"],
    ['<postmaster>', qr/^550 relay not permitted\r\n\z/, "a bare <postmaster> goes to exim (exim's own answer)"],
  );
  for my $case (@cases) {
    my ($arg, $re, $name) = @$case;
    like($c->cmd("RCPT TO:$arg"), $re, "RCPT TO:$arg: $name");
  }
  # no brackets, lower case: still checked; a tab after the verb makes
  # no RCPT for qmail-smtpd or exim, and none reaches either
  like($c->cmd("rcpt to: nobody5\@example.org"), $unknown->('nobody5@example.org'), 'rcpt to: without brackets is checked too');
  like($c->cmd("rcpt\tto:<nobody6\@example.org>"), qr/^502 5\.5\.1 /, 'rcpt<TAB>to: 502 from rcptchecks');
  # an address longer than qmail-smtpd's 900 bytes, in a line under 1000
  like($c->cmd('RCPT TO:<' . ('n' x 950) . '@example.org>'), qr/^501 5\.1\.3 bad recipient address syntax\r\n\z/,
    'a 962-byte address: 501 5.1.3');
  like($c->cmd('DATA'), qr/^354 /, 'DATA: 354');
  like($c->cmd(message('recipients', 'hello')), qr/^250 OK id=/, 'the message is accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT: 221');
  ok($c->is_closed(5), 'closed after QUIT');
  $c->close;
  completed($mta, 1);
  is_deeply(delivered($mta), [sort qw(alice@example.org bob-anything@example.org carol-list-x-y@example.org
    alice-ext@example.org anyone@example.net bob-upper@example.org bob-quoted@example.org bob-routed@example.org)],
    'delivered to exactly the known recipients');
  my $exim = $mta->log_text;
  unlike($exim, qr/nobody|no body|carol-other|<bob\@|nnnnn/i, 'no unknown recipient ever reached exim (not even in its logs)');
  like($exim, qr/rejected RCPT <x\@other\.test>: relay not permitted/, '... while the other domain did');
  like($exim, qr/rejected RCPT <postmaster>/, '... and the bare <postmaster>');
  my @unk = map { /rcpt=<([^>]*)> result=unknown delay=\d+\.\d{3}$/ ? $1 : () } rc_lines($s, $ip);
  is_deeply(\@unk, ['nobody@example.org', 'bob@example.org', 'carol-other@example.org', 'Nobody2@example.org',
    'nobody4@example.org', 'nobody7@example.org', 'nobody5@example.org'],
    'one log line per unknown recipient, in order');
  like((grep { /result=syntax/ } rc_lines($s, $ip))[-1] // '', qr/ helo=<[^>]*> from=<[^>]*> rcpt=<TO:<n{190,200}> result=syntax delay=\d+\.\d{3}$/,
    'the bad syntax logged (the text after the verb, cut short)');
  like(session_line($s, $ip), qr/ rcpts=20 forwarded=10 unknown=7 refused=10 tempfail=0 messages=1 databytes=\d+ result=quit$/,
    'the session line counts them');
  is(end_status($s, $ip), 0, 'the session ends with status 0');

  # swaks
  my $sip = loopback_ip();
  my ($rc, $out) = swaks(server => $s, opts => ['--local-interface', $sip, '--from', 'sender@other.test',
    '--to', 'alice@example.org', '--body', 'swaks to alice']);
  is($rc, 0, 'swaks to alice: accepted') or diag $out;
  ($rc, $out) = swaks(server => $s, opts => ['--local-interface', $sip, '--from', 'sender@other.test',
    '--to', 'nobody@example.org']);
  isnt($rc, 0, 'swaks to nobody: refused');
  like($out, qr/^<\*\* 550 5\.1\.1 <nobody\@example\.org>: \Q$NOMAILBOX\E$/m, '... with 550 5.1.1');
  ($rc, $out) = swaks(server => $s, opts => ['--local-interface', $sip, '--from', 'sender@other.test',
    '--to', 'someone@other.test']);
  like($out, qr/^<\*\* 550 relay not permitted$/m, "swaks to another domain: exim's refusal");
  unlike($out, qr/5\.1\.1/, '... not rcptchecks\'');
  completed($mta, 2);
  is(scalar(grep { $_ eq 'alice@example.org' } @{ delivered($mta) }), 2, 'swaks\' message reached alice');
  $s->stop;
};

# exim reads RFC 822 comments in an address ("(x)") and drops them:
# <nobody@example.org(x)> is nobody@example.org to exim, so rcptchecks
# must not take example.org(x) for a domain it does not know
subtest 'comments or blanks in the domain do not get an unknown recipient past' => sub {
  my ($s, $mta) = chain(opts => ['-u', '0.01']);
  my @ips;
  for my $addr ('<nobody@example.org(x)>', '<nobody@(x)example.org>', '<nobody@example(x).org>',
                 '<nobody@ example.org>', '<nobody@example .org>') {
    my ($c, $ip) = client($s);
    push @ips, $ip;
    open_session($c, $addr);
    my $r = $c->cmd("RCPT TO:$addr");
    like($r, qr/^5\d\d /, "RCPT TO:$addr: refused (5xx), not passed to exim") or diag "got: $r";
    if ($r =~ /^250 /) {
      like($c->cmd('DATA'), qr/^354 /, "$addr: DATA");
      $c->cmd(message('comment', "to $addr"));
    }
    $c->cmd('QUIT');
    $c->close;
  }
  end_status($s, $_) for @ips;
  is_deeply(delivered($mta), [], 'nothing delivered to nobody@example.org');
  $s->stop;
};

subtest 'pipelining: 50 RCPTs in one write, answers in command order' => sub {
  # (pipelined answers wait their delays one after the other: small ones)
  my ($s, $mta) = chain(opts => ['-u', '0.001', '-M', '100']);
  my ($c, $ip) = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  my (@rcpts, @expect);
  for my $i (1 .. 50) {
    # every third unknown, and a run of unknowns at 40..44
    my $unk = $i % 3 == 1 || ($i >= 40 && $i <= 44);
    my $addr = $unk ? "nobody$i\@example.org" : "bob-p$i\@example.org";
    push @rcpts, $addr;
    push @expect, $unk ? "550 <$addr>" : '250';
  }
  ok($c->send(join('', map { "$_\r\n" } 'EHLO client.test', 'MAIL FROM:<sender@other.test>',
    (map { "RCPT TO:<$_>" } @rcpts), 'DATA')), 'EHLO, MAIL, 50 RCPT and DATA in one write');
  my @got;
  for (1 .. 53) {
    my ($code, $text) = $c->read_reply(10);
    last unless defined $code;
    push @got, $text =~ /^550 5\.1\.1 (<[^>]*>)/ ? "550 $1" : $code;
  }
  is_deeply(\@got, ['250', '250', @expect, '354'], 'the 53 answers, in command order (each 550 names its own address)');
  like($c->cmd(message('pipelined', 'to the known ones')), qr/^250 OK id=/, 'the message is accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  completed($mta, 1);
  is_deeply(delivered($mta), [sort grep { /^bob-p/ } @rcpts], 'delivered to the known recipients only');
  unlike($mta->log_text, qr/nobody/, 'no unknown recipient reached exim');
  my $n_unknown = grep { /^550/ } @expect;
  like(session_line($s, $ip), qr/ rcpts=50 forwarded=${\ (50 - $n_unknown)} unknown=$n_unknown refused=$n_unknown .* messages=1 /,
    'the session line');

  # a client that does not even wait for 354
  my ($c2) = client($s);
  $c2->expect(qr/^220 /, 10, 'greeting');
  ok($c2->send(join('', map { "$_\r\n" } 'EHLO client.test', 'MAIL FROM:<sender@other.test>', 'RCPT TO:<alice@example.org>',
    'RCPT TO:<nobody@example.org>', 'DATA', 'Subject: all at once', '', 'body', '.', 'QUIT')), 'a whole session in one write');
  my @codes = map { ($c2->read_reply(10))[0] // 'none' } 1 .. 7;
  is("@codes", '250 250 250 550 354 250 221', '... answered in order');
  $c2->close;
  completed($mta, 2);
  is(scalar(grep { $_ eq 'alice@example.org' } @{ delivered($mta) }), 1, '... delivered to alice');
  $s->stop;

  # -M 3 with pipelining: the answers owed before the 421 still come, in
  # order, and nothing after it
  my ($s3, $mta3) = chain(opts => ['-u', '0.01', '-M', '3']);
  my ($c3, $ip3) = client($s3);
  $c3->expect(qr/^220 /, 10, 'greeting');
  $c3->send(join '', map { "$_\r\n" } 'EHLO client.test', 'MAIL FROM:<sender@other.test>',
    (map { "RCPT TO:<$_\@example.org>" } qw(alice nobody1 bob-1 nobody2 nobody3 bob-2 nobody4)), 'DATA');
  my ($all, $eof) = $c3->read_all(10);
  $c3->close;
  my @replies = map { /^(\d{3}) / ? $1 : () } split /(?<=\n)/, $all;
  is("@replies", '250 250 250 550 250 550 550 421', '-M 3: 250 250 | 250 550 250 550 550 421, then nothing');
  ok($eof, '... and closed');
  unlike($mta3->log_text, qr/bob-2|nobody/, 'nothing after the third unknown reached exim');
  $s3->stop;
};

subtest '10,000 RCPTs in one session' => sub {
  my ($s, $mta) = chain(opts => ['-N', '1000000', '-d', '0', '-u', '0', '-M', '0']);
  my ($c, $ip) = client($s, timeout => 20);
  open_session($c, '10,000');
  my $N = 10_000;
  my (@expect, @got);
  my $t0 = time;
  for (my $i = 0 ; $i < $N ; $i += 500) {
    my @batch = map { $_ % 3 ? "u$_\@example.net" : "nobody$_\@example.org" } $i .. $i + 499;
    push @expect, map { /^nobody/ ? "550 5.1.1 <$_>: $NOMAILBOX\r\n" : "250 Accepted\r\n" } @batch;
    $c->send(join '', map { "RCPT TO:<$_>\r\n" } @batch) or last;
    for (@batch) {
      my ($code, $text) = $c->read_reply(20);
      last unless defined $code;
      push @got, $text;
    }
    last if @got < @expect;
  }
  my $took = time - $t0;
  is(scalar @got, $N, "$N answers") ;
  my ($first) = grep { ($got[$_] // '') ne $expect[$_] } 0 .. $N - 1;
  ok(!defined $first, 'every answer is the one for its RCPT, in order')
    or diag "answer $first: got " . ($got[$first] // 'none') . " expected $expect[$first]";
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  my $unknown = int(($N + 2) / 3);
  like(session_line($s, $ip), qr/ rcpts=$N forwarded=${\ ($N - $unknown)} unknown=$unknown refused=$unknown tempfail=0 messages=0 databytes=0 result=quit$/,
    "the session line counts $N RCPTs");
  note sprintf '%d RCPTs in %.2f s', $N, $took;
  $s->stop;
};

subtest 'command lines: length, NUL, bare CR, bare LF' => sub {
  my ($s, $mta) = chain(opts => ['-u', '0.01']);
  my ($c, $ip) = client($s);
  open_session($c, 'lines');
  my $noop1000 = 'NOOP ' . ('x' x 995);
  is(length $noop1000, 1000, '(a 1000-byte command line)');
  like($c->cmd($noop1000), qr/^250 OK\r\n\z/, 'a 1000-byte line (the limit) reaches exim');
  like($c->cmd("${noop1000}y"), qr/^500 5\.5\.2 line too long\r\n\z/, 'a 1001-byte line: 500 5.5.2 line too long');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 Accepted\r\n\z/, '... and the session goes on');
  like($c->cmd('RCPT TO:<' . ('n' x 1100) . '@example.org>'), qr/^500 5\.5\.2 line too long\r\n\z/, 'an overlong RCPT: 500 5.5.2, not checked, not forwarded');
  like($c->cmd('NOOP ' . ('z' x 300_000), 20), qr/^500 5\.5\.2 line too long\r\n\z/, 'a 300 KB line (more than the buffer): one 500 5.5.2');
  like($c->cmd('NOOP'), qr/^250 OK\r\n\z/, '... and the next command is answered by exim');
  like($c->cmd("NOOP a\0b"), qr/^500 5\.5\.2 NUL or bare CR in a command\r\n\z/, 'NUL in a command: 500 5.5.2');
  like($c->cmd("RCPT TO:<alice\0nobody\@example.org>"), qr/^500 5\.5\.2 NUL or bare CR in a command\r\n\z/, 'NUL in a RCPT: 500 5.5.2');
  like($c->cmd("NOOP a\rb"), qr/^500 5\.5\.2 NUL or bare CR in a command\r\n\z/, 'a bare CR in a command: 500 5.5.2');
  like($c->cmd("RCPT TO:<nobody\@example.org>\r"), qr/^500 5\.5\.2 NUL or bare CR in a command\r\n\z/, 'a line ending CR CR LF: 500 5.5.2');
  like($c->cmd('NOOP'), qr/^250 OK\r\n\z/, 'the session still works');
  like($c->cmd('RSET'), qr/^250 /, 'RSET');

  # bare LF line ends, pipelined
  ok($c->send("MAIL FROM:<sender\@other.test>\nRCPT TO:<alice\@example.org>\nRCPT TO:<nobody\@example.org>\nDATA\n"),
    'MAIL, two RCPTs and DATA with bare LF line ends');
  my @codes = map { ($c->read_reply(10))[0] // 'none' } 1 .. 4;
  is("@codes", '250 250 550 354', '... answered 250 250 550 354');
  like($c->cmd(message('bare LF commands', 'body')), qr/^250 OK id=/, 'the message is accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  completed($mta, 1);
  is_deeply(delivered($mta), ['alice@example.org'], 'delivered to alice only');
  unlike($mta->log_text, qr/nobody|n{1100}/, 'neither the unknown nor the overlong recipient reached exim');
  like(session_line($s, $ip), qr/ rcpts=3 forwarded=2 unknown=1 refused=1 .* messages=1 .*result=quit$/,
    'the session line: the lines refused with 500 are not counted as RCPTs');
  $s->stop;

  # -l 600, in front of a server that says 250 to everything
  my ($s2) = chain(opts => ['-l', '600'], child => ['/bin/sh', '-c',
    q{printf '220 yes-man\r\n'; while IFS= read -r l; do printf '250 ok\r\n'; done}]);
  my ($c2) = client($s2);
  $c2->expect(qr/^220 yes-man/, 10, '-l 600: greeting');
  like($c2->cmd('NOOP ' . ('x' x 595)), qr/^250 ok/, '-l 600: a 600-byte line passes');
  like($c2->cmd('NOOP ' . ('x' x 596)), qr/^500 5\.5\.2 line too long/, '-l 600: a 601-byte line does not');
  like($c2->cmd('NOOP'), qr/^250 ok/, '-l 600: the session goes on');
  $s2->stop;
};

subtest 'DATA: dot-stuffing, a bare LF next to the final dot, EOF' => sub {
  my ($s, $mta) = chain();
  my ($c, $ip) = client($s);
  open_session($c, 'dots');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT alice');
  like($c->cmd('DATA'), qr/^354 /, 'DATA: 354');
  my @stuffed = ('..one dot', '...two dots', '..', '.. ', 'x.', ' .', '..end');
  my $data = "Subject: dots\r\n\r\n" . join('', map { "$_\r\n" } @stuffed) . ".\r\n";
  ok($c->send($data), 'a message with dot-stuffed lines');
  like(($c->read_reply(10))[1], qr/^250 OK id=/, '... accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  completed($mta, 1);
  my ($body) = $mta->message_bodies;
  is($body, join('', map { "$_\r\n" } '.one dot', '..two dots', '.', '. ', 'x.', ' .', '.end'),
    'delivered with the dots exim took off, nothing else changed');
  like(session_line($s, $ip), qr/ messages=1 databytes=${\ length $data} result=quit$/, 'databytes counts the data phase to its end');

  # the end of the data in five writes
  my ($c1) = client($s);
  open_session($c1, 'split end');
  like($c1->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'split end: RCPT alice');
  like($c1->cmd('DATA'), qr/^354 /, 'split end: DATA');
  $c1->send("Subject: split\r\n\r\nthe end comes in pieces");
  # one byte per read of rcptchecks: the pauses are the case, not a wait
  for my $piece ("\r", "\n", '.', "\r", "\n") { sleep 0.05; $c1->send($piece) }
  like(($c1->read_reply(10))[1], qr/^250 OK id=/, 'split end: CR, LF, dot, CR, LF one by one end the data');
  like($c1->cmd('QUIT'), qr/^221 /, 'split end: QUIT');
  $c1->close;
  completed($mta, 2);

  # the three forms of a lone dot next to a bare LF, each followed by
  # the start of a smuggled second message
  my $smuggled = "MAIL FROM:<spoof\@other.test>\r\nRCPT TO:<alice\@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n";
  for my $form (["\n.\n", 'LF . LF'], ["\r\n.\n", 'CRLF . LF'], ["\n.\r\n", 'LF . CRLF']) {
    my ($end, $name) = @$form;
    my ($c2, $ip2) = client($s);
    open_session($c2, $name);
    like($c2->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, "$name: RCPT alice");
    like($c2->cmd('DATA'), qr/^354 /, "$name: DATA: 354");
    $c2->send("Subject: bare $name\r\n\r\nsmuggling a second message$end$smuggled");
    my ($all, $eof) = $c2->read_all(10);
    $c2->close;
    like($all, qr/\A421 4\.5\.0 [^\r\n]*\r\n\z/, "$name: 421 4.5.0 and nothing else (no answer for the smuggled commands)");
    ok($eof, "$name: the connection is closed");
    like(session_line($s, $ip2), qr/ messages=0 .*result=bare-lf$/, "$name: the session line says bare-lf");
    is(end_status($s, $ip2), 0, "$name: the session is over");
  }
  is(scalar($mta->messages), 2, 'nothing more was delivered (only the first two messages)');
  unlike($mta->log_text, qr/spoof|smuggl/, 'exim never saw the smuggled message');

  # the client leaves in the middle of the data
  my ($c3, $ip3) = client($s);
  open_session($c3, 'EOF in DATA');
  like($c3->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'EOF in DATA: RCPT alice');
  like($c3->cmd('DATA'), qr/^354 /, 'EOF in DATA: 354');
  $c3->send("Subject: cut off\r\n\r\nhalf a message\r\n");
  my @during = leftovers($mta);
  ok(@during >= 2, 'EOF in DATA: (rcptchecks and exim run while the session lasts: ' . scalar(@during) . ' processes)');
  $c3->close;
  like(session_line($s, $ip3), qr/ messages=0 .*result=client-eof$/, 'EOF in DATA: the session line says client-eof');
  is(end_status($s, $ip3), 0, 'EOF in DATA: the session is over');
  is_deeply([leftovers($mta)], [], 'EOF in DATA: no rcptchecks or exim left running');
  is(scalar($mta->messages), 2, 'EOF in DATA: nothing delivered');
  unlike($mta->log_text, qr/cut off/, "EOF in DATA: not in exim's logs either");
  $s->stop;
};

# deterministic pseudo-random printable text: a pool of bytes from a
# linear congruential generator, lines cut from it
my $POOL = do {
  my ($x, $p) = (20240601, '');
  for (1 .. 65536) { $x = ($x * 1103515245 + 12345) % 2147483648; $p .= chr(32 + ($x >> 16) % 95) }
  $p;
};

subtest 'DATA: 50 MB byte-exact' => sub {
  my ($s, $mta) = chain();
  my ($c, $ip) = client($s, timeout => 30);
  open_session($c, '50 MB');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT alice');
  like($c->cmd('DATA'), qr/^354 /, 'DATA: 354');
  my $SIZE = 50_000_000;
  my $sha = Digest::SHA->new(256);
  my $head = "Subject: 50 MB\r\nFrom: sender\@other.test\r\n\r\n";
  my ($sent, $n, $ok) = (0, 0, $c->send($head, 30));
  my $t0 = time;
  while ($ok && $sent < $SIZE) {
    my $chunk = '';
    while (length $chunk < (1 << 20) && $sent + length $chunk < $SIZE) {
      $n++;
      $chunk .= sprintf('%09d ', $n) . substr($POOL, ($n * 7919) % 64000, ($n * 104729) % 990) . "\r\n";
    }
    $sha->add($chunk);
    $sent += length $chunk;
    $ok = $c->send($chunk, 30);
  }
  ok($ok && $c->send(".\r\n", 30), sprintf('%d bytes in %d lines sent', $sent, $n));
  like(($c->read_reply(30))[1], qr/^250 OK id=/, 'accepted');
  note sprintf 'sent and accepted in %.2f s', time - $t0;
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  my ($file) = $mta->wait_messages(1, 30);
  # the body is what follows the header's blank line, read in pieces
  my ($len, $digest) = (0, '');
  if ($file && open my $fh, '<:raw', $file) {
    my $buf = '';
    read($fh, $buf, 65536, length $buf) or last until $buf =~ /\r\n\r\n/;
    my $got = Digest::SHA->new(256);
    my $rest = substr($buf, index($buf, "\r\n\r\n") + 4);
    $got->add($rest);
    $len = length $rest;
    while (read($fh, $buf, 1 << 20)) { $got->add($buf); $len += length $buf }
    $digest = $got->hexdigest;
  }
  is($len, $sent, 'the delivered body has the length sent');
  is($digest, $sha->hexdigest, '... and the same SHA-256');
  like(session_line($s, $ip), qr/ messages=1 databytes=${\ ($sent + length($head) + 3)} result=quit$/, 'the session line counts the bytes');
  $s->stop;
};

subtest 'EHLO: only the extensions rcptchecks understands; STARTTLS and BDAT answered 502' => sub {
  my $mta = exim_child(tls => 1);
  my ($rc, $direct) = run_cmd(argv => $mta->argv, stdin => "EHLO client.test\r\nQUIT\r\n", timeout => 20);
  like($direct, qr/^250-STARTTLS\r$/m, 'exim alone advertises STARTTLS');
  like($direct, qr/^250-CHUNKING\r$/m, '... and CHUNKING');
  my ($s) = chain(mta => $mta);
  my ($c, $ip) = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  my $ehlo = $c->cmd('EHLO client.test');
  like($ehlo, qr/\A250-mx\.example\.org Hello .*^250-PIPELINING\r$/ms, 'through rcptchecks: the EHLO answer, PIPELINING kept');
  unlike($ehlo, qr/STARTTLS|CHUNKING|BINARYMIME|PRDR/, '... without STARTTLS, CHUNKING or PRDR');
  my @lines = split /(?<=\n)/, $ehlo;
  my @kept = grep { /^250[- ](?:PIPELINING|SIZE|8BITMIME|ENHANCEDSTATUSCODES|DSN|AUTH|HELP|SMTPUTF8)\b/ } split /(?<=\n)/, $direct;
  is(scalar(@lines), 1 + scalar(@kept), '... the greeting line and exim\'s lines of the allowed extensions');
  ok(!grep({ !/^250-/ } @lines[0 .. $#lines - 1]) && $lines[-1] =~ /^250 HELP\r\n\z/, '... every line but the last continues');
  like($c->cmd('STARTTLS'), qr/^502 5\.5\.1 [^\r\n]*\r\n\z/, 'STARTTLS: 502 5.5.1 from rcptchecks');
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, 'MAIL');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT');
  like($c->cmd('BDAT 4 LAST'), qr/^502 5\.5\.1 [^\r\n]*\r\n\z/, 'BDAT: 502 5.5.1');
  like($c->cmd('DATA'), qr/^354 /, 'DATA still works');
  like($c->cmd(message('after BDAT', 'body')), qr/^250 OK id=/, '... and the message is accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  unlike($mta->log_text, qr/TLS|BDAT/, 'exim never saw STARTTLS or BDAT');
  $s->stop;

  # a child whose EHLO answer ends with the extensions that go: the
  # continuation marks are mended
  my $fake = q{printf '220 fake ready\r\n'; while IFS= read -r l; do case "$l" in
    EHLO*) printf '250-fake.test\r\n250-BINARYMIME\r\n250-PIPELINING\r\n250-chunking\r\n250 STARTTLS\r\n' ;;
    QUIT*) printf '221 bye\r\n'; exit 0 ;;
    *) printf '250 ok\r\n' ;; esac; done};
  my ($s2) = chain(child => ['/bin/sh', '-c', $fake]);
  my ($c2) = client($s2);
  $c2->expect(qr/^220 fake ready/, 10, 'fake child: greeting');
  is($c2->cmd('EHLO client.test'), "250-fake.test\r\n250 PIPELINING\r\n", 'fake child: only PIPELINING left, now the last line');
  like($c2->cmd('HELO client.test'), qr/^250 ok/, 'fake child: HELO passes');
  like($c2->cmd('QUIT'), qr/^221 bye/, 'fake child: QUIT');
  $s2->stop;
};

subtest 'AUTH: a client that authenticates is trusted' => sub {
  my $mta = exim_child(auth => 1);
  my ($rc, $out, $err) = run_cmd(argv => ['/usr/sbin/exim4', '-C', $mta->argv->[2], '-bV']);
  is($rc, 0, 'exim accepts the configuration with the authenticator (-bV)') or diag "$out$err";
  my ($s) = chain(mta => $mta, opts => ['-u', '0.01']);
  my @auth = ('--auth', 'PLAIN', '--auth-user', $mta->auth_user, '--auth-password', $mta->auth_password);
  my $ip = loopback_ip();
  my $out1;
  ($rc, $out1) = swaks(server => $s, opts => ['--local-interface', $ip, '--from', 'sender@other.test',
    '--to', 'stranger@example.org', '--body', 'authenticated', @auth]);
  is($rc, 0, 'swaks --auth PLAIN to an unknown local recipient: accepted') or diag $out1;
  like($out1, qr/^<-  235 /m, '... exim said 235');
  like(session_line($s, $ip), qr/ rcpts=0 .* messages=1 databytes=\d+ auth=1 result=quit$/,
    '... the session line has auth=1 (trusted: no recipient checked, the session still followed)');
  completed($mta, 1);
  is_deeply(delivered($mta), ['stranger@example.org'], '... delivered: exim decided');

  my $ip2 = loopback_ip();
  my $out2;
  ($rc, $out2) = swaks(server => $s, opts => ['--local-interface', $ip2, '--from', 'sender@other.test',
    '--to', 'stranger@example.org']);
  isnt($rc, 0, 'the same without AUTH: refused');
  like($out2, qr/^<\*\* 550 5\.1\.1 <stranger\@example\.org>: /m, '... 550 5.1.1 from rcptchecks');
  unlike(session_line($s, $ip2), qr/auth=1/, '... no auth=1');

  # by hand: a failed AUTH trusts nothing; a 334 continuation; an AUTH
  # line longer than the command limit
  my ($c, $ip3) = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/^250-AUTH PLAIN\r$/m, 'EHLO: exim advertises AUTH PLAIN through rcptchecks');
  like($c->cmd('AUTH PLAIN ' . encode_base64("\0" . $mta->auth_user . "\0wrong", '')), qr/^535 /, 'a wrong password: 535');
  like($c->cmd('AUTH PLAIN ' . ('QUFB' x 1000)), qr/^535 /, 'a 4011-byte AUTH line reaches exim (535): AUTH lines may be longer');
  like($c->cmd('AUTH PLAIN ' . ('QUFB' x 3100)), qr/^500 5\.5\.2 line too long\r\n\z/, 'a 12411-byte AUTH line: 500 5.5.2 (over 12288)');
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, 'MAIL');
  like($c->cmd('RCPT TO:<nobody@example.org>'), qr/^550 5\.1\.1 /, 'not trusted after a failed AUTH: 550 5.1.1');
  like($c->cmd('RSET'), qr/^250 /, 'RSET');
  like($c->cmd('AUTH PLAIN'), qr/^334 /, 'AUTH PLAIN without a response: 334');
  like($c->cmd(encode_base64("\0" . $mta->auth_user . "\0" . $mta->auth_password, '')), qr/^235 /, 'the response: 235');
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, 'MAIL');
  like($c->cmd('RCPT TO:<nobody@example.org>'), qr/^250 Accepted/, 'trusted: an unknown local recipient goes to exim');
  like($c->cmd('NOOP ' . ('x' x 1500)), qr/^500 5\.5\.2 line too long/, 'trusted: the command line limit holds all the same');
  like($c->cmd('XCLIENT ADDR=192.0.2.66 NAME=forged.example'), qr/^502 5\.5\.1 command not recognised\r\n\z/, 'trusted: XCLIENT is 502 from rcptchecks, never passed on');
  like($c->cmd('XFORWARD ADDR=192.0.2.67'), qr/^502 5\.5\.1 command not recognised\r\n\z/, 'trusted: XFORWARD too');
  like($c->cmd('BDAT 10 LAST'), qr/^502 5\.5\.1 BDAT not available/, 'trusted: BDAT too');
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  like($c->cmd(message('trusted', 'body')), qr/^250 OK id=/, 'accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  completed($mta, 2);
  is_deeply(delivered($mta), ['nobody@example.org', 'stranger@example.org'], 'delivered to nobody@example.org');
  unlike($mta->log_text, qr/XCLIENT|XFORWARD|192\.0\.2\.6[67]|forged/, 'exim never saw the XCLIENT or XFORWARD');
  like(session_line($s, $ip3), qr/ rcpts=1 forwarded=0 unknown=1 refused=1 .* auth=1 result=quit$/,
    'the session line: the one RCPT before AUTH was checked, auth=1');

  # an answer to the 334 over 12288 bytes is refused, and the exchange
  # must not stay open in exim, which would take the next command for
  # the answer
  my ($c4) = client($s);
  $c4->expect(qr/^220 /, 10, 'overlong answer: greeting');
  like($c4->cmd('EHLO client.test'), qr/^250[ -]/, 'overlong answer: EHLO');
  like($c4->cmd('AUTH PLAIN'), qr/^334 /, 'overlong answer: AUTH PLAIN, 334');
  # the answer is replaced by "*", which cancels the AUTH (RFC 4954):
  # the client gets the server's refusal of the exchange
  like($c4->cmd('QUFB' x 3100), qr/^5\d\d /, 'overlong answer: a 12400-byte answer cancels the AUTH: 5xx');
  my $next = $c4->cmd('NOOP');
  like($next, qr/^(?:250 |421 )/, 'overlong answer: the next command is answered as a command (or the session closed)')
    or diag "got: $next";
  $c4->close;
  $s->stop;
};

subtest 'RELAYCLIENT: no check, but still no verb off the allow-list' => sub {
  my ($s, $mta) = chain(env => { RELAYCLIENT => '' });
  my ($c, $ip) = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  my $ehlo = $c->cmd('EHLO client.test');
  like($ehlo, qr/^250[ -]PIPELINING\r$/m, 'EHLO: exim\'s answer, through rcptchecks');
  unlike($ehlo, qr/CHUNKING/, '... filtered as for anyone: no CHUNKING');
  like($c->cmd('XCLIENT ADDR=192.0.2.66 NAME=forged.example'), qr/^502 5\.5\.1 command not recognised\r\n\z/, 'XCLIENT: 502 from rcptchecks');
  like($c->cmd('XFORWARD ADDR=192.0.2.67'), qr/^502 5\.5\.1 command not recognised\r\n\z/, 'XFORWARD: 502 from rcptchecks');
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, 'MAIL');
  like($c->cmd('RCPT TO:<nobody@example.org>'), qr/^250 Accepted/, 'an unknown local recipient: exim accepts it');
  like($c->cmd('RCPT TO:<"odd local"@example.org>'), qr/^250 Accepted/, 'a form rcptchecks would refuse from others: exim decides');
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  like($c->cmd(message('relayclient', 'body')), qr/^250 OK id=/, 'accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  completed($mta, 1);
  my @d = @{ delivered($mta) };
  ok((grep { $_ eq 'nobody@example.org' } @d), 'delivered to nobody@example.org') or diag "@d";
  my @l = rc_lines($s, $ip);
  wait_until(5, sub { @l = rc_lines($s, $ip) }, 'a log line');
  like($l[0] // '', qr/^rcptchecks: info: pid \d+ ip \Q$ip\E result=trusted$/, 'logged result=trusted');
  is(scalar @l, 1, '... and nothing else');
  unlike($mta->log_text, qr/XCLIENT|XFORWARD|192\.0\.2\.6[67]|forged/, 'exim never saw the XCLIENT or XFORWARD');
  $s->stop;
};

subtest 'RBLLATE: every RCPT refused but postmaster and abuse' => sub {
  my ($s, $mta) = chain(env => { RBLLATE => 'listed in test.bl' }, opts => ['-u', '0.01']);
  my ($c, $ip) = client($s);
  open_session($c, 'RBLLATE');
  my $late = qr/^451 4\.7\.1 listed in test\.bl\r\n\z/;
  like($c->cmd('RCPT TO:<alice@example.org>'), $late, 'a known recipient: 451 4.7.1 with the text');
  like($c->cmd('RCPT TO:<nobody@example.org>'), $late, 'an unknown one: the same');
  like($c->cmd('RCPT TO:<x@other.test>'), $late, 'another domain: the same');
  like($c->cmd('RCPT TO:<postmaster@other.test>'), $late, 'postmaster of another domain: the same');
  like($c->cmd('RCPT TO:<postmaster@example.org>'), qr/^250 Accepted/, 'postmaster@example.org passes');
  like($c->cmd('RCPT TO:<Abuse@Example.ORG>'), qr/^250 Accepted/, 'abuse@example.org passes (any case)');
  like($c->cmd('RCPT TO:<postmaster>'), qr/^550 relay not permitted/, "bare <postmaster> goes to exim (exim's answer)");
  like($c->cmd('RCPT TO:<abuse@example.net>'), qr/^250 Accepted/, 'abuse@ of the catch-all domain passes');
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  like($c->cmd(message('to postmaster', 'body')), qr/^250 OK id=/, 'accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  completed($mta, 1);
  is_deeply(delivered($mta), ['abuse@example.net', 'abuse@example.org', 'postmaster@example.org'], 'delivered to postmaster and abuse only');
  unlike($mta->log_text, qr/alice|nobody|x\@other/, 'the refused recipients never reached exim');
  is(scalar(grep { /rcpt=<[^>]*> result=rbllate delay=/ } rc_lines($s, $ip)), 4, 'four result=rbllate lines');
  like(session_line($s, $ip), qr/ rcpts=8 forwarded=4 unknown=0 refused=4 /, 'the session line');
  $s->stop;

  # a role address that is not listed at a local domain is still unknown
  my $dir = tmpdir();
  make_cdb(recipients => "alice\@example.org\n", "$dir/r.cdb");
  my ($s2, $mta2) = chain(cdb => "$dir/r.cdb", env => { RBLLATE => '-listed permanently' }, opts => ['-u', '0.01']);
  my ($c2, $ip2) = client($s2);
  open_session($c2, 'RBLLATE -');
  like($c2->cmd('RCPT TO:<alice@example.org>'), qr/^553 5\.7\.1 listed permanently\r\n\z/, 'a leading -: 553 5.7.1, the - dropped');
  like($c2->cmd('RCPT TO:<postmaster@example.org>'), qr/^550 5\.1\.1 <postmaster\@example\.org>: /, 'an unlisted postmaster of a local domain: checked, unknown');
  like($c2->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c2->close;
  $s2->stop;

  my ($s3) = chain(env => { RBLLATE => '' });
  my ($c3) = client($s3);
  open_session($c3, 'RBLLATE empty');
  like($c3->cmd('RCPT TO:<alice@example.org>'), qr/^250 Accepted/, 'an empty RBLLATE changes nothing');
  $s3->stop;
};

# seconds from sending a command to the end of its reply: (seconds, reply)
sub timed {
  my ($c, $line, $timeout) = @_;
  my $t0 = time;
  my $r = $c->cmd($line, $timeout);
  return (time - $t0, $r);
}

subtest 'tarpit: progressive delays, known after unknown, -N and -d, -M' => sub {
  my $U = 0.3;
  my ($s) = chain(opts => ['-u', $U, '-M', '3']);
  my ($c, $ip) = client($s);
  open_session($c, 'tarpit');
  my ($k1, $r) = timed($c, 'RCPT TO:<alice@example.org>');
  like($r, qr/^250 /, 'a known recipient');
  my ($u1, $r1) = timed($c, 'RCPT TO:<nobody1@example.org>');
  like($r1, qr/^550 5\.1\.1 /, 'unknown 1: 550');
  my ($k2, $r2) = timed($c, 'RCPT TO:<bob-x@example.org>');
  like($r2, qr/^250 /, 'a known recipient after an unknown');
  my ($u2) = timed($c, 'RCPT TO:<nobody2@example.org>');
  my ($u3, $r3) = timed($c, 'RCPT TO:<nobody3@example.org>');
  note sprintf 'known %.3f, unknown %.3f, known %.3f, unknown %.3f, unknown %.3f', $k1, $u1, $k2, $u2, $u3;
  # The client's clock gives lower bounds only: a loaded machine makes
  # every answer later, never earlier, so an upper bound or a ratio of
  # two round trips fails there with nothing wrong. What each answer
  # owes (nothing for the first known, 1 : 2 : 3 for the unknowns) is
  # read from the log lines below; these show it is really waited.
  ok($u1 >= $U - 0.01, sprintf('unknown 1 waits at least u (%.3f s)', $u1));
  ok($u2 >= 2 * $U - 0.01 && $u3 >= 3 * $U - 0.01, sprintf('unknown 2 and 3 wait at least 2u and 3u (%.3f s, %.3f s)', $u2, $u3));
  ok($k2 >= 2 * $U - 0.01, sprintf('a known recipient after an unknown waits at least what the next unknown would, 2u (%.3f s)', $k2));
  like($r3, qr/^550 5\.1\.1 <nobody3\@example\.org>: [^\r\n]*\r\n\z/, '-M 3: the third unknown still gets its 550');
  $c->expect(qr/^421 4\.7\.0 too many unknown recipients[^\r\n]*\r\n\z/, 5, '... then 421 4.7.0');
  ok($c->is_closed(5), '... and the connection is closed');
  $c->close;
  my @delays = map { /rcpt=<nobody\d\@example\.org> result=unknown delay=(\d+\.\d{3})$/ ? $1 : () } rc_lines($s, $ip);
  is("@delays", '0.300 0.600 0.900', 'the log lines give each delay: they grow as 1 : 2 : 3');
  my @known = map { /rcpt=<(alice|bob-x)\@example\.org> result=known delay=(\d+\.\d{3})$/ ? "$1=$2" : () } rc_lines($s, $ip);
  is("@known", 'alice=0.000 bob-x=0.600', 'the log lines: no delay for a known recipient before any unknown, 2u after one');
  like(session_line($s, $ip), qr/ rcpts=5 forwarded=2 unknown=3 refused=3 .* result=too-many-unknown$/, 'result=too-many-unknown');
  is(end_status($s, $ip), 0, 'the session is over');
  $s->stop;

  # -N 2 -d 0.3: the third and later answers wait
  my $D = 0.3;
  my ($s2) = chain(opts => ['-N', '2', '-d', $D, '-u', '1']);
  my ($c2, $ip2) = client($s2);
  open_session($c2, '-N 2');
  my @t = map { (timed($c2, "RCPT TO:<bob-$_\@example.org>"))[0] } 1 .. 4;
  note sprintf 'RCPT answers after %.3f %.3f %.3f %.3f s', @t;
  # which answers owe d is read from the log (a client-side "fast" bound
  # on the first two fails on a loaded machine); that it is waited, from
  # the client's lower bounds
  ok($t[2] >= $D - 0.01 && $t[3] >= $D - 0.01, sprintf('the third and fourth wait at least d (%.3f s, %.3f s)', @t[2, 3]));
  $c2->close;
  session_line($s2, $ip2);
  my @owed = map { /rcpt=<bob-\d\@example\.org> result=known delay=(\d+\.\d{3})$/ ? $1 : () } rc_lines($s2, $ip2);
  is("@owed", '0.000 0.000 0.300 0.300', 'the log lines: the first two answers are not delayed, the third and fourth wait d');
  $s2->stop;

  # pipelined, the delays add up: one write of three unknown RCPTs and a
  # known one, answers due at u, u + 2u, u + 2u + 3u, then + 4u
  my $P = 0.2;
  my ($s3) = chain(opts => ['-u', $P, '-M', '0']);
  my ($c3) = client($s3);
  open_session($c3, 'pipelined tarpit');
  my $t0 = time;
  $c3->send(join '', map { "RCPT TO:<$_\@example.org>\r\n" } qw(nobody1 nobody2 nobody3 alice));
  my (@at, @codes);
  for (1 .. 4) {
    my ($code) = $c3->read_reply(10);
    push @codes, $code // 'none';
    push @at, time - $t0;
  }
  note sprintf 'pipelined answers at %.3f %.3f %.3f %.3f s', @at;
  is("@codes", '550 550 550 250', 'pipelined: 550 550 550 250');
  my @due = map { $_ * $P } 1, 3, 6, 10;
  # lower bounds only (a loaded machine makes answers later, never
  # earlier): delays that did not add up would answer the third unknown
  # at 3u, well before its 6u, and the known one at 4u instead of 10u
  ok(!grep({ $at[$_] < $due[$_] - 0.01 } 0 .. 3),
    sprintf('pipelined: each answer waits for the one before it (due at %s s)', join ' ', @due));
  $s3->stop;
};

subtest 'the child dies, the client leaves' => sub {
  # a server that greets, reads one line and is gone
  my ($s) = chain(child => ['/bin/sh', '-c', q{printf '220 short-lived\r\n'; read -r line; exit 0}]);
  my ($c, $ip) = client($s);
  $c->expect(qr/^220 short-lived/, 10, 'the child greets');
  like($c->cmd('EHLO client.test'), qr/^421 4\.3\.0 mail server unavailable[^\r\n]*\r\n\z/, 'it dies on EHLO: 421 4.3.0');
  ok($c->is_closed(5), '... and the connection is closed');
  $c->close;
  like(session_line($s, $ip), qr/ result=child-died$/, 'result=child-died');
  is(end_status($s, $ip), 0, 'the session is over');
  $s->stop;

  # a client that leaves in the middle of a session
  my ($s2, $mta) = chain();
  my ($c2, $ip2) = client($s2);
  open_session($c2, 'leaving');
  like($c2->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT');
  my @during = leftovers($mta);
  ok(@during >= 2, '(rcptchecks and exim run while the session lasts: ' . scalar(@during) . ' processes)');
  $c2->close;
  like(session_line($s2, $ip2), qr/ rcpts=1 forwarded=1 .* messages=0 databytes=0 result=client-eof$/, 'EOF: result=client-eof');
  is(end_status($s2, $ip2), 0, 'tcpserver logs the end of the session');
  is_deeply([leftovers($mta)], [], 'no rcptchecks or exim left running');
  is(scalar($mta->messages), 0, 'nothing delivered');
  $s2->stop;
};

subtest 'idle timeout' => sub {
  my ($s) = chain(opts => ['-t', '1']);
  my ($c, $ip) = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/^250/, 'EHLO');
  my $t0 = time;
  my (undef, $text) = $c->read_reply(8);
  my $took = time - $t0;
  like($text, qr/^421 4\.4\.2 timeout[^\r\n]*\r\n\z/, 'a silent client gets 421 4.4.2');
  # < 6: room for a loaded machine; a missing timeout never answers
  ok($took > 0.9 && $took < 6, sprintf('... after -t 1 second (%.2f s)', $took));
  ok($c->is_closed(5), '... and is disconnected');
  $c->close;
  like(session_line($s, $ip), qr/ result=timeout$/, 'result=timeout');
  $s->stop;

  # a tarpit delay longer than -t is not idleness; silence in DATA is
  my ($s2, $mta) = chain(opts => ['-t', '1', '-u', '1.5']);
  my ($c2, $ip2) = client($s2);
  open_session($c2, 'idle');
  my ($t, $r) = timed($c2, 'RCPT TO:<nobody@example.org>', 5);
  like($r, qr/^550 5\.1\.1 /, 'an unknown recipient with -u 1.5 -t 1: 550, not 421');
  ok($t >= 1.49, sprintf('... after its delay (%.2f s)', $t));
  like($c2->cmd('RCPT TO:<alice@example.org>', 5), qr/^250 /, 'the session goes on');
  like($c2->cmd('DATA', 5), qr/^354 /, 'DATA');
  $c2->send("Subject: idle\r\n\r\nhalf a message\r\n");
  $t0 = time;
  my ($all, $eof) = $c2->read_all(8);
  $c2->close;
  like($all, qr/\A421 4\.4\.2 timeout[^\r\n]*\r\n\z/, 'silent in DATA: 421 4.4.2');
  # < 6 for -t 1: room for a loaded machine; a missing timeout never closes
  ok($eof && time - $t0 < 6, sprintf('... and disconnected within the bound (%.2f s)', time - $t0));
  like(session_line($s2, $ip2), qr/ messages=0 .*result=timeout$/, 'result=timeout');
  is(end_status($s2, $ip2), 0, 'the session is over');
  is(scalar($mta->messages), 0, 'nothing delivered');
  $s2->stop;

  # a server that reads and never answers
  my ($s3) = chain(opts => ['-t', '1'], child => ['/bin/sh', '-c', q{printf '220 mute\r\n'; cat >/dev/null}]);
  my ($c3, $ip3) = client($s3);
  $c3->expect(qr/^220 mute/, 10, 'a mute server greets');
  $t0 = time;
  like($c3->cmd('EHLO client.test', 8), qr/^421 4\.3\.0 [^\r\n]*\r\n\z/, 'it never answers EHLO: 421 4.3.0');
  # < 6 for -t 1: room for a loaded machine; a missing timeout never answers
  ok(time - $t0 < 6, sprintf('... within the bound (%.2f s)', time - $t0));
  ok($c3->is_closed(5), '... and the connection is closed');
  $c3->close;
  like(session_line($s3, $ip3), qr/ result=child-timeout$/, 'result=child-timeout');
  $s3->stop;
};

subtest 'dry run: nothing refused, nothing delayed, all logged' => sub {
  # -u 5: a dry run that delayed would take 5 s on the first unknown
  # and 10 s on the second, far above the bound below on any machine
  my ($s, $mta) = chain(opts => ['-n', '-u', '5', '-M', '1']);
  my ($c, $ip) = client($s);
  open_session($c, 'dry run');
  my ($t1, $r1) = timed($c, 'RCPT TO:<nobody@example.org>');
  like($r1, qr/^250 Accepted/, 'an unknown recipient goes to exim');
  my ($t2, $r2) = timed($c, 'RCPT TO:<nobody2@example.org>');
  like($r2, qr/^250 Accepted/, 'a second one too (-M 1 does not end the session)');
  my ($t3, $r3) = timed($c, 'RCPT TO:<alice@example.org>');
  ok($t1 + $t2 + $t3 < 4, sprintf('no delays (%.3f s, %.3f s, %.3f s with -u 5)', $t1, $t2, $t3));
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  like($c->cmd(message('dry run', 'body')), qr/^250 OK id=/, 'accepted');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  completed($mta, 1);
  is_deeply(delivered($mta), ['alice@example.org', 'nobody2@example.org', 'nobody@example.org'], 'delivered to all three');
  my @l = grep { /result=unknown/ } rc_lines($s, $ip);
  is(scalar @l, 2, 'both unknown recipients logged');
  like($l[0] // '', qr/ helo=<[^>]*> from=<[^>]*> rcpt=<nobody\@example\.org> result=unknown dryrun=1 delay=0\.000$/, '... with dryrun=1 and no delay');
  like(session_line($s, $ip), qr/ rcpts=3 forwarded=3 unknown=2 refused=0 .* dryrun=1 result=quit$/, 'the session line has dryrun=1');
  $s->stop;
};

subtest 'usage errors, a missing database' => sub {
  my $child = '/bin/true';
  for my $case (
    [[], 'no child'],
    [['-N', 'x', $child], '-N x'],
    [['-N', '1000001', $child], '-N over 1000000'],
    [['-d', 'soon', $child], '-d soon'],
    [['-d', '61', $child], '-d over 60 s'],
    [['-u', '-1', $child], '-u -1'],
    [['-M', '3x', $child], '-M 3x'],
    [['-l', '511', $child], '-l under 512'],
    [['-l', '65001', $child], '-l over 65000'],
    [['-t', '0', $child], '-t 0'],
    [['-e', 'ab', $child], '-e two characters'],
    [['-e', '@', $child], '-e @'],
    [['-e', 'x', $child], '-e x (not punctuation)'],
    [['-c', $cdb, '-g', 'mxtest', $child], '-c with -g'],
    [['-f', '/dev/null', $child], '-f without -g'],
    [['-g', '', $child], '-g empty'],
    [['-Z', $child], 'an unknown option'],
  ) {
    my ($args, $name) = @$case;
    my ($rc, $out, $err) = run_cmd(argv => [$bin, @$args], env => { TCPREMOTEIP => '127.0.0.1', RELAYCLIENT => undef },
      timeout => 10);
    is($rc, 100, "$name: exit 100");
    like($err, qr/usage/i, "$name: usage message");
    is($out, '', "$name: nothing said to the client");
  }
  # and the same options with good values run the child
  my ($rc, $out) = run_cmd(argv => [$bin, '-c', $cdb, '-N', '5', '-d', '0.5', '-u', '0.25', '-M', '0', '-l', '512',
    '-t', '2.5', '-e', '+', '-n', '/bin/sh', '-c', 'echo "220 ok"; read l; echo "221 bye"'],
    stdin => "QUIT\r\n", env => { TCPREMOTEIP => '127.0.0.1', RELAYCLIENT => undef }, timeout => 10);
  is($rc, 0, 'good values: exit 0');
  is($out, "220 ok\n221 bye\n", '... and the child ran');

  my ($s) = chain(cdb => tmpdir() . '/missing.cdb');
  my ($c, $ip) = client($s);
  my ($all, $eof) = $c->read_all(5);
  like($all, qr/\A421 4\.3\.0 [^\r\n]*\r\n\z/, 'a missing database: the client gets 421 4.3.0');
  ok($eof, '... and is disconnected');
  is(end_status($s, $ip), 111, '... rcptchecks exits 111');
  like(join("\n", rc_lines($s, $ip)), qr/^rcptchecks: warning: pid \d+ ip \Q$ip\E result=tempfail error=\S.*missing\.cdb/m, '... and says why');
  $s->stop;
};

done_testing;
