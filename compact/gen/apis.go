package gen

import "strings"

// api is one CloudTrail event name with the traits that shape its record.
type api struct {
	source   string // eventSource
	name     string // eventName
	readOnly bool
	data     bool // data event: eventCategory Data, managementEvent false
	global   bool // recorded in us-east-1 whatever region the caller uses (IAM, Organizations, sign-in)
	params   paramKind
	console  bool // eventType AwsConsoleSignIn
}

type paramKind int

const (
	pNull paramKind = iota
	pEmpty
	pEC2Filter
	pInstance
	pTags
	pSGIngress
	pS3Host
	pBucket
	pObject
	pUser
	pRole
	pPolicy
	pAssumeRole
	pFunction
	pLogGroup
	pKMS
	pSecret
	pParam
	pParamsPath
	pSSMAgent
	pSSMCommand
	pTable
	pTableItem
	pStack
	pRepo
	pECSService
	pQueue
	pTrail
	pDetector
	pConsoleLogin
	pAlarm
)

// The catalogue. Event names are CloudTrail's (Lambda's carry API version suffixes).
var apiList = []*api{
	// EC2
	{source: "ec2", name: "DescribeInstances", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeSecurityGroups", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeVpcs", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeSubnets", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeRegions", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeVolumes", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeSnapshots", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeImages", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeNetworkInterfaces", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeInstanceStatus", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeFlowLogs", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "DescribeTags", readOnly: true, params: pEC2Filter},
	{source: "ec2", name: "StartInstances", params: pInstance},
	{source: "ec2", name: "StopInstances", params: pInstance},
	{source: "ec2", name: "RebootInstances", params: pInstance},
	{source: "ec2", name: "CreateTags", params: pTags},
	{source: "ec2", name: "AuthorizeSecurityGroupIngress", params: pSGIngress},
	{source: "ec2", name: "DeleteFlowLogs"},
	{source: "ec2", name: "ModifySnapshotAttribute"},
	{source: "ec2", name: "ModifyImageAttribute"},
	// S3
	{source: "s3", name: "ListBuckets", readOnly: true, params: pS3Host},
	{source: "s3", name: "GetBucketAcl", readOnly: true, params: pBucket},
	{source: "s3", name: "GetBucketPolicy", readOnly: true, params: pBucket},
	{source: "s3", name: "GetBucketLocation", readOnly: true, params: pBucket},
	{source: "s3", name: "GetBucketVersioning", readOnly: true, params: pBucket},
	{source: "s3", name: "GetBucketEncryption", readOnly: true, params: pBucket},
	{source: "s3", name: "GetBucketPublicAccessBlock", readOnly: true, params: pBucket},
	{source: "s3", name: "GetObject", readOnly: true, data: true, params: pObject},
	{source: "s3", name: "PutObject", data: true, params: pObject},
	{source: "s3", name: "HeadObject", readOnly: true, data: true, params: pObject},
	{source: "s3", name: "ListObjects", readOnly: true, data: true, params: pBucket},
	{source: "s3", name: "PutBucketPolicy", params: pBucket},
	{source: "s3", name: "DeleteBucketPublicAccessBlock", params: pBucket},
	// IAM (global)
	{source: "iam", name: "ListUsers", readOnly: true, global: true},
	{source: "iam", name: "ListRoles", readOnly: true, global: true},
	{source: "iam", name: "ListPolicies", readOnly: true, global: true},
	{source: "iam", name: "ListGroups", readOnly: true, global: true},
	{source: "iam", name: "ListInstanceProfiles", readOnly: true, global: true},
	{source: "iam", name: "GetUser", readOnly: true, global: true, params: pUser},
	{source: "iam", name: "GetRole", readOnly: true, global: true, params: pRole},
	{source: "iam", name: "GetPolicy", readOnly: true, global: true, params: pPolicy},
	{source: "iam", name: "GetPolicyVersion", readOnly: true, global: true, params: pPolicy},
	{source: "iam", name: "ListAttachedUserPolicies", readOnly: true, global: true, params: pUser},
	{source: "iam", name: "ListAttachedRolePolicies", readOnly: true, global: true, params: pRole},
	{source: "iam", name: "ListAccessKeys", readOnly: true, global: true, params: pUser},
	{source: "iam", name: "ListMFADevices", readOnly: true, global: true, params: pUser},
	{source: "iam", name: "GetAccountAuthorizationDetails", readOnly: true, global: true, params: pEmpty},
	{source: "iam", name: "GetAccountSummary", readOnly: true, global: true},
	{source: "iam", name: "GetAccountPasswordPolicy", readOnly: true, global: true},
	{source: "iam", name: "CreateAccessKey", global: true, params: pUser},
	{source: "iam", name: "TagRole", global: true, params: pRole},
	// STS
	{source: "sts", name: "GetCallerIdentity", readOnly: true},
	{source: "sts", name: "AssumeRole", readOnly: true, params: pAssumeRole},
	{source: "sts", name: "GetSessionToken", readOnly: true},
	// Sign-in (global)
	{source: "signin", name: "ConsoleLogin", global: true, params: pConsoleLogin, console: true},
	// Lambda
	{source: "lambda", name: "ListFunctions20150331", readOnly: true},
	{source: "lambda", name: "GetFunction20150331v2", readOnly: true, params: pFunction},
	{source: "lambda", name: "GetFunctionConfiguration20150331v2", readOnly: true, params: pFunction},
	{source: "lambda", name: "UpdateFunctionCode20150331v2", params: pFunction},
	{source: "lambda", name: "ListLayers20181031", readOnly: true},
	{source: "lambda", name: "UpdateFunctionConfiguration20150331v2", params: pFunction},
	{source: "lambda", name: "AddPermission20150331v2", params: pFunction},
	// CloudWatch Logs / CloudWatch
	{source: "logs", name: "DescribeLogGroups", readOnly: true, params: pLogGroup},
	{source: "logs", name: "DescribeLogStreams", readOnly: true, params: pLogGroup},
	{source: "logs", name: "StartQuery", readOnly: true, params: pLogGroup},
	{source: "logs", name: "GetQueryResults", readOnly: true, params: pEmpty},
	{source: "monitoring", name: "DescribeAlarms", readOnly: true, params: pAlarm},
	{source: "monitoring", name: "GetMetricData", readOnly: true, params: pEmpty},
	{source: "monitoring", name: "PutMetricAlarm", params: pAlarm},
	// KMS
	{source: "kms", name: "Decrypt", readOnly: true, params: pKMS},
	{source: "kms", name: "GenerateDataKey", readOnly: true, params: pKMS},
	{source: "kms", name: "Encrypt", readOnly: true, params: pKMS},
	{source: "kms", name: "DescribeKey", readOnly: true, params: pKMS},
	{source: "kms", name: "ListKeys", readOnly: true},
	{source: "kms", name: "ListAliases", readOnly: true},
	// Secrets Manager
	{source: "secretsmanager", name: "GetSecretValue", readOnly: true, params: pSecret},
	{source: "secretsmanager", name: "DescribeSecret", readOnly: true, params: pSecret},
	{source: "secretsmanager", name: "ListSecrets", readOnly: true, params: pEmpty},
	{source: "secretsmanager", name: "PutSecretValue", params: pSecret},
	// SSM
	{source: "ssm", name: "GetParameter", readOnly: true, params: pParam},
	{source: "ssm", name: "GetParametersByPath", readOnly: true, params: pParamsPath},
	{source: "ssm", name: "DescribeParameters", readOnly: true, params: pEmpty},
	{source: "ssm", name: "UpdateInstanceInformation", params: pSSMAgent},
	{source: "ssm", name: "DescribeInstanceInformation", readOnly: true, params: pEmpty},
	{source: "ssm", name: "StartSession", params: pSSMCommand},
	{source: "ssm", name: "SendCommand", params: pSSMCommand},
	// DynamoDB
	{source: "dynamodb", name: "ListTables", readOnly: true},
	{source: "dynamodb", name: "DescribeTable", readOnly: true, params: pTable},
	{source: "dynamodb", name: "GetItem", readOnly: true, data: true, params: pTableItem},
	{source: "dynamodb", name: "PutItem", data: true, params: pTableItem},
	{source: "dynamodb", name: "Query", readOnly: true, data: true, params: pTableItem},
	// RDS
	{source: "rds", name: "DescribeDBInstances", readOnly: true},
	{source: "rds", name: "DescribeDBClusters", readOnly: true},
	{source: "rds", name: "DescribeDBSnapshots", readOnly: true},
	{source: "rds", name: "ModifyDBSnapshotAttribute"},
	// CloudFormation
	{source: "cloudformation", name: "DescribeStacks", readOnly: true, params: pStack},
	{source: "cloudformation", name: "ListStacks", readOnly: true},
	{source: "cloudformation", name: "DescribeStackEvents", readOnly: true, params: pStack},
	{source: "cloudformation", name: "CreateChangeSet", params: pStack},
	{source: "cloudformation", name: "ExecuteChangeSet", params: pStack},
	// ECR / ECS
	{source: "ecr", name: "GetAuthorizationToken", readOnly: true, params: pEmpty},
	{source: "ecr", name: "DescribeRepositories", readOnly: true},
	{source: "ecr", name: "BatchGetImage", readOnly: true, params: pRepo},
	{source: "ecr", name: "GetDownloadUrlForLayer", readOnly: true, params: pRepo},
	{source: "ecs", name: "ListClusters", readOnly: true},
	{source: "ecs", name: "DescribeServices", readOnly: true, params: pECSService},
	{source: "ecs", name: "UpdateService", params: pECSService},
	// SQS / SNS
	{source: "sqs", name: "ListQueues", readOnly: true},
	{source: "sqs", name: "GetQueueAttributes", readOnly: true, params: pQueue},
	{source: "sns", name: "ListTopics", readOnly: true},
	// CloudTrail, GuardDuty, Organizations
	{source: "cloudtrail", name: "DescribeTrails", readOnly: true, params: pEmpty},
	{source: "cloudtrail", name: "GetTrailStatus", readOnly: true, params: pTrail},
	{source: "cloudtrail", name: "LookupEvents", readOnly: true, params: pEmpty},
	{source: "cloudtrail", name: "GetEventSelectors", readOnly: true, params: pTrail},
	{source: "cloudtrail", name: "StopLogging", params: pTrail},
	{source: "guardduty", name: "ListDetectors", readOnly: true},
	{source: "guardduty", name: "GetDetector", readOnly: true, params: pDetector},
	{source: "guardduty", name: "ListFindings", readOnly: true, params: pDetector},
	{source: "organizations", name: "DescribeOrganization", readOnly: true, global: true},
	{source: "organizations", name: "ListAccounts", readOnly: true, global: true},
}

var apis = func() map[string]*api {
	m := make(map[string]*api, len(apiList))
	for _, a := range apiList {
		a.source += ".amazonaws.com"
		m[a.name] = a
	}
	return m
}()

// lookupAPI panics on a name missing from the catalogue: that is a bug in this package, never input.
func lookupAPI(name string) *api {
	a, ok := apis[name]
	if !ok {
		panic("gen: api not in catalogue: " + name)
	}
	return a
}

func lookupAPIs(names ...string) []*api {
	out := make([]*api, len(names))
	for i, n := range names {
		out[i] = lookupAPI(n)
	}
	return out
}

// service is the IAM service prefix (ec2, s3, lambda ...).
func (a *api) service() string { return strings.TrimSuffix(a.source, ".amazonaws.com") }

// action is the IAM action name: Lambda's versioned event names lose their suffix.
func (a *api) action() string {
	n := a.name
	if i := strings.IndexAny(n, "0123456789"); i > 0 && a.service() == "lambda" {
		n = n[:i]
	}
	return a.service() + ":" + n
}

// denyCode is the errorCode the service logs for a permissions failure.
func (a *api) denyCode() string {
	switch a.service() {
	case "ec2":
		return "Client.UnauthorizedOperation"
	case "lambda", "secretsmanager", "organizations", "dynamodb", "ecr", "ecs", "logs", "guardduty", "ssm", "kms":
		return "AccessDeniedException"
	}
	return "AccessDenied"
}

// notFoundCode is a plausible "harmless" error for the service.
func (a *api) notFoundCode() string {
	switch a.service() {
	case "ec2":
		return "Client.InvalidInstanceID.NotFound"
	case "s3":
		return "NoSuchBucketPolicy"
	case "iam":
		return "NoSuchEntityException"
	case "lambda", "secretsmanager", "dynamodb", "logs", "ecs", "kms":
		return "ResourceNotFoundException"
	case "ssm":
		return "ParameterNotFound"
	}
	return "ThrottlingException"
}

func denyMessage(a *api, arn string) string {
	msg := "User: " + arn + " is not authorized to perform: " + a.action() + " because no identity-based policy allows the " + a.action() + " action"
	if a.service() == "ec2" {
		return "You are not authorized to perform this operation. " + msg
	}
	return msg
}

// API pools by persona: a human's favourite APIs come from their persona's pool.
var (
	poolDeveloper = []string{"GetCallerIdentity", "DescribeLogGroups", "DescribeLogStreams", "StartQuery", "GetQueryResults",
		"ListFunctions20150331", "GetFunction20150331v2", "GetFunctionConfiguration20150331v2", "UpdateFunctionCode20150331v2",
		"DescribeStacks", "DescribeStackEvents", "ListStacks", "DescribeRepositories", "GetAuthorizationToken",
		"ListClusters", "DescribeServices", "UpdateService", "DescribeTable", "ListTables", "GetObject", "PutObject",
		"ListBuckets", "ListObjects", "GetParameter", "DescribeInstances", "ListQueues", "GetQueueAttributes", "DescribeSecret"}
	poolOps = []string{"DescribeInstances", "DescribeInstanceStatus", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets",
		"DescribeVolumes", "DescribeSnapshots", "DescribeImages", "DescribeNetworkInterfaces", "StartInstances", "StopInstances",
		"RebootInstances", "CreateTags", "AuthorizeSecurityGroupIngress", "DescribeAlarms", "GetMetricData", "PutMetricAlarm",
		"DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots", "DescribeInstanceInformation", "StartSession",
		"SendCommand", "GetCallerIdentity", "ListBuckets", "DescribeLogGroups", "GetParametersByPath", "DescribeParameters"}
	poolSecurity = []string{"LookupEvents", "DescribeTrails", "GetTrailStatus", "GetEventSelectors", "ListDetectors", "GetDetector",
		"ListFindings", "ListUsers", "ListRoles", "GetRole", "ListAttachedRolePolicies", "ListPolicies", "GetPolicy",
		"GetPolicyVersion", "GetAccountSummary", "GetAccountPasswordPolicy", "ListMFADevices", "ListAccessKeys",
		"DescribeSecurityGroups", "GetBucketPolicy", "GetBucketAcl", "GetBucketPublicAccessBlock", "GetBucketEncryption",
		"ListKeys", "ListAliases", "DescribeKey", "GetCallerIdentity", "DescribeFlowLogs", "DescribeOrganization"}
	poolData = []string{"GetObject", "PutObject", "HeadObject", "ListObjects", "ListBuckets", "GetBucketLocation",
		"GetBucketVersioning", "DescribeTable", "ListTables", "Query", "GetItem", "StartQuery", "GetQueryResults",
		"DescribeLogGroups", "GetCallerIdentity", "DescribeDBClusters", "GetParameter", "Decrypt"}
	poolCI = []string{"GetCallerIdentity", "DescribeStacks", "CreateChangeSet", "ExecuteChangeSet", "DescribeStackEvents",
		"GetAuthorizationToken", "UpdateFunctionCode20150331v2", "GetFunction20150331v2", "UpdateService",
		"DescribeServices", "PutObject", "GetObject", "GetRole", "ListAttachedRolePolicies", "TagRole",
		"DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets", "GetParameter"}
)
