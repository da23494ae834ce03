################################################################################
# Application database (RDS for PostgreSQL)
################################################################################

resource "random_password" "db" {
  length           = 33
  special          = true
  override_special = "-_"
}

resource "aws_db_subnet_group" "postgres" {
  name        = "${var.cluster_name}-postgres"
  description = "Private subnets for ${var.cluster_name} Postgres"
  subnet_ids  = module.vpc.private_subnets

  tags = local.tags
}

resource "aws_security_group" "rds" {
  name        = "${var.cluster_name}-postgres"
  description = "Postgres access from EKS nodes"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description     = "Postgres from EKS nodes"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [module.eks.node_security_group_id]
  }

  ingress {
    description = "Postgres from the ops VPN range"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.99.0.0/20"]
  }

  egress {
    description = "All egress inside the VPC"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = merge(local.tags, {
    Name = "${var.cluster_name}-postgres"
  })
}

resource "aws_db_instance" "postgres" {
  identifier     = "${var.cluster_name}-app"
  engine         = "postgres"
  engine_version = "16.4"
  instance_class = var.db_instance_class

  allocated_storage     = 50
  max_allocated_storage = 200
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.eks.arn

  db_name  = "app"
  username = "app_admin"
  password = random_password.db.result
  port     = 5432

  db_subnet_group_name   = aws_db_subnet_group.postgres.name
  vpc_security_group_ids = [aws_security_group.rds.id]
  publicly_accessible    = false
  multi_az               = false

  backup_retention_period = 7
  backup_window           = "02:00-03:00"
  maintenance_window      = "sun:03:30-sun:04:30"

  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]

  deletion_protection       = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.cluster_name}-app-final"
  copy_tags_to_snapshot     = true

  tags = local.tags
}

resource "aws_secretsmanager_secret" "db" {
  name                    = "${var.env}/${var.cluster_name}/postgres/app"
  description             = "Connection details for the ${var.cluster_name} application database"
  kms_key_id              = aws_kms_key.eks.arn
  recovery_window_in_days = 7

  tags = local.tags
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({
    engine   = "postgres"
    host     = aws_db_instance.postgres.address
    port     = aws_db_instance.postgres.port
    dbname   = aws_db_instance.postgres.db_name
    username = aws_db_instance.postgres.username
    password = random_password.db.result
  })
}
