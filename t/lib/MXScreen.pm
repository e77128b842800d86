package MXScreen;
# smtp-screen in a test: started on a loopback address and a port of its
# choosing (-1), its log kept in a file.
#
#   my $s = start_screen(ip => $ip, opts => [...], argv => [child...],
#                        env => {VAR => value or undef}, log => $path);
#     ip: default a fresh loopback_ip(); env: added to (or removing from)
#     RELAYCLIENT and RBLSMTPD unset and DNSCACHEIP 127.0.0.1. Returns an
#     MXTest::TCPServer ($s->ip, $s->port, $s->pid, $s->log_text,
#     $s->stop).
#   lines_for($s, $ip): smtp-screen's log lines for the client $ip, joined
#   logged($s, $ip, qr/.../, $name): waits (10 s at most) until one of
#     them matches, and passes or fails $name
use strict;
use warnings;
use Exporter 'import';
use Test::More ();
use MXTest;
use MXRun;

our @EXPORT = qw(start_screen lines_for logged);

sub start_screen {
  my (%a) = @_;
  my $ss = top() . '/smtp-screen/smtp-screen';
  my $ip = $a{ip} // loopback_ip();
  my $dir = tmpdir();
  my $log = $a{log} // "$dir/log";
  my $pid = MXTest::_spawn(argv => [$ss, '-1', @{ $a{opts} || [] }, $ip, 0, @{ $a{argv} }],
    env => { RELAYCLIENT => undef, RBLSMTPD => undef, DNSCACHEIP => '127.0.0.1', %{ $a{env} || {} } },
    stdout => "$dir/port", stderr => $log);
  my $port;
  MXTest::_poll(10, sub { ($port) = (slurp("$dir/port") // '') =~ /^(\d+)\n/; $port || !MXTest::_alive($pid) });
  die "smtp-screen did not start: " . (slurp($log) // '') unless $port;
  return bless { ip => $ip, port => $port, pid => $pid, log => $log }, 'MXTest::TCPServer';
}

sub lines_for {
  my ($s, $ip) = @_;
  return join "\n", grep { /^smtp-screen: \w+: pid \d+ ip \Q$ip\E / } split /\n/, $s->log_text;
}

sub logged {
  my ($s, $ip, $re, $name) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  wait_until(10, sub { lines_for($s, $ip) =~ $re }, $name) and Test::More::pass($name);
}

1;
