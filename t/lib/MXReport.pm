package MXReport;
# The text report of mxguard-report as the tests read it.
#
# report_section(TEXT, TITLE): the rows of the section headed TITLE, as
# { key => count } for "count  key" rows (the ranked tables) and
# { key => [refused, dry-run, passed, other] } for the per-day and
# per-program tables; undef when there is no such section. Column-head
# lines are skipped.
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(report_section);

sub report_section {
  my ($out, $title) = @_;
  my ($body) = $out =~ /^\Q$title\E[^\n]*\n(.*?)(?:\n\n|\z)/ms or return;
  my %rows;
  for (split /\n/, $body) {
    next if /^\s+count\s/ || /^\s+(day|program|program\/result)\s+refused/;
    if (/^\s+(\d+)\s\s(.*)$/) { $rows{$2} = $1 }          # count, key
    elsif (/^\s\s(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/) { $rows{$1} = [$2, $3, $4, $5] }
  }
  return \%rows;
}

1;
