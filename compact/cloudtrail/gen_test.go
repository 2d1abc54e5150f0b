package cloudtrail

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"
)

// genFile builds a CloudTrail log file of n varied, realistic records (compact JSON, as AWS writes it).
func genFile(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	t0 := time.Date(2024, 3, 7, 12, 0, 0, 0, time.UTC)
	users := []string{"alice", "bob", "deploy-bot", "carol.smith", "ci-runner"}
	roles := []string{"OrganizationAccountAccessRole", "AWSReservedSSO_AdministratorAccess_0123456789abcdef", "lambda-exec", "eks-node-role"}
	apis := []struct{ src, name string }{
		{"s3.amazonaws.com", "GetObject"}, {"s3.amazonaws.com", "PutObject"}, {"iam.amazonaws.com", "ListRoles"},
		{"ec2.amazonaws.com", "DescribeInstances"}, {"sts.amazonaws.com", "AssumeRole"}, {"kms.amazonaws.com", "Decrypt"},
		{"iam.amazonaws.com", "CreateAccessKey"}, {"lambda.amazonaws.com", "Invoke"}, {"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"},
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		api := apis[rng.IntN(len(apis))]
		ts := t0.Add(time.Duration(i) * 37 * time.Millisecond).Format(time.RFC3339)
		var ui string
		switch rng.IntN(4) {
		case 0:
			u := users[rng.IntN(len(users))]
			ui = fmt.Sprintf(`{"type":"IAMUser","principalId":"AIDA%016d","arn":"arn:aws:iam::111122223333:user/%s","accountId":"111122223333","accessKeyId":"AKIA%016d","userName":"%s"}`, rng.IntN(1e9), u, rng.IntN(1e9), u)
		case 1, 2:
			r := roles[rng.IntN(len(roles))]
			ui = fmt.Sprintf(`{"type":"AssumedRole","principalId":"AROA%016d:session-%d","arn":"arn:aws:sts::111122223333:assumed-role/%s/session-%d","accountId":"111122223333","accessKeyId":"ASIA%016d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA%016d","arn":"arn:aws:iam::111122223333:role/%s","accountId":"111122223333","userName":"%s"},"webIdFederationData":{},"attributes":{"creationDate":"%s","mfaAuthenticated":"%t"}}}`,
				rng.IntN(1e9), i, r, i, rng.IntN(1e9), rng.IntN(1e9), r, r, ts, rng.IntN(2) == 0)
		default:
			ui = `{"type":"AWSService","invokedBy":"` + api.src + `"}`
		}
		errPart := ""
		if rng.IntN(10) == 0 {
			errPart = `"errorCode":"AccessDenied","errorMessage":"User is not authorized to perform this operation",`
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":%s,"eventTime":"%s","eventSource":"%s","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"%d.%d.%d.%d","userAgent":"aws-cli/2.15.%d Python/3.11.6 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off command/%s",%s"requestParameters":{"bucketName":"data-%d","key":"reports/2024/03/%08d.csv","Host":"data-%d.s3.amazonaws.com","x-id":"%s"},"responseElements":{"x-amz-server-side-encryption":"aws:kms","requestId":"%016X"},"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":%d,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"Zq8dyv%016x","bytesTransferredOut":%d},"requestID":"%016X","eventID":"%08x-%04x-4%03x-8%03x-%012x","readOnly":%t,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data-%d/reports/2024/03/%08d.csv"},{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::data-%d"}],"eventType":"AwsApiCall","managementEvent":%t,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s"}}`,
			ui, ts, api.src, api.name, rng.IntN(223)+1, rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(30), api.name, errPart,
			rng.IntN(50), rng.IntN(1e8), rng.IntN(50), api.name, rng.Uint64(), rng.IntN(1e6), rng.Uint64(), rng.IntN(1e6), rng.Uint64(),
			rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1), rng.IntN(2) == 0,
			rng.IntN(50), rng.IntN(1e8), rng.IntN(50), rng.IntN(5) != 0, api.src)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
