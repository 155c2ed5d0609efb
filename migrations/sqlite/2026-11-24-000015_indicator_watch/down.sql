DROP TABLE indicator_watch;
