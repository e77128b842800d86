-- greylisting tables shared by MX hosts (greydb.8): rcptchecks -g reads and
-- writes them, greydb -g edits them; the GRANTs name the chain's SQL user.
CREATE TABLE greylist (
  net VARBINARY(48) NOT NULL, sender VARBINARY(200) NOT NULL,
  rcpt VARBINARY(200) NOT NULL,
  first BIGINT UNSIGNED NOT NULL, passed BIGINT UNSIGNED NOT NULL,
  count BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (net, sender, rcpt)) ENGINE=InnoDB;
CREATE TABLE greylist_nets (
  net VARBINARY(48) NOT NULL PRIMARY KEY,
  passes BIGINT UNSIGNED NOT NULL, last BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
GRANT SELECT, INSERT, UPDATE, DELETE ON greylist TO 'mxguard'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE ON greylist_nets TO 'mxguard'@'%';
