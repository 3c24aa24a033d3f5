DROP TABLE domain_blocks;
DROP TABLE reactions;
