DROP INDEX adoptions_status_on_idx;
DROP TABLE award_proposals;
DROP TABLE campaigns;
