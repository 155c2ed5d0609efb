DROP TABLE attachment_contents;
