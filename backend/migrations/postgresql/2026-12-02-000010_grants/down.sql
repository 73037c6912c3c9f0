DROP TABLE grants;
DROP TABLE grant_policies;
