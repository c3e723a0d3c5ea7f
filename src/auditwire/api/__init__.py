"""HTTP surface: GitLab's REST v4 subset, GraphQL, and operational endpoints."""
