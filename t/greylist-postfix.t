#!/usr/bin/perl
# A real sender that retries: Postfix (unpacked, t/lib/MXSenders.pm, its
# deferred mail retried every second or two) sends to rcptchecks with
# greylisting (-I 3) in front of exim4 -bs under tcpserver. Its first
# attempt is deferred with 451 4.7.1 (Postfix logs status=deferred with
# rcptchecks' text), its own retry after the delay is accepted, and the
# message is delivered once.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;
use MXSenders;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
plan skip_all => "$bin not built" unless -x $bin;
my $dir = tmpdir();
my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n", "$dir/r.cdb");
my $mta = exim_child();
my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLSCORE => undef, SMTPDELAY_CLASS => undef },
  argv => [$bin, '-c', $cdb, '-d', '0', '-u', '0', '-E', 'greylist', '-G', "$dir/grey", '-I', '3', @{ $mta->argv }]);

my $pf = postfix_sender(host => $s->ip, port => $s->port);
my $id = "grey$$\@client.mxtest.test";
my ($rc, $out) = $pf->sendmail('pf@sender.test', ['alice@example.org'],
  "From: <pf\@sender.test>\nTo: <alice\@example.org>\nSubject: greylisted\nMessage-ID: <$id>\n\nretried by Postfix\n");
is($rc, 0, 'Postfix takes the message') or diag $out;
my ($st) = grep { $_->{status} eq 'deferred' } $pf->wait_status('deferred', 1, 40);
like($st->{said} // $pf->maillog, qr/451 4\.7\.1 Greylisted: please try again in \d+ seconds/, 'first attempt: deferred with the text');
($st) = grep { $_->{status} eq 'sent' } $pf->wait_delivered(1, 60);
like($st->{said} // '', qr/\b250\b/, "Postfix's own retry: status=sent") or diag $pf->maillog;
is($mta->wait_messages(1), 1, 'delivered once');
my $log = $s->log_text;
like($log, qr/rcpt=<alice\@example\.org> result=greylisted delay=[\d.]+ greylist=new$/m, 'rcptchecks: greylist=new');
like($log, qr/rcpt=<alice\@example\.org> result=known delay=[\d.]+ greylist=retried$/m, 'then greylist=retried');
$pf->stop;

done_testing;
