package vpcflow

// field identifies a flow-log field (versions 2–8 of the VPC Flow Logs format).
type field uint8

const (
	fVersion field = iota
	fAccountID
	fInterfaceID
	fSrcAddr
	fDstAddr
	fSrcPort
	fDstPort
	fProtocol
	fPackets
	fBytes
	fStart
	fEnd
	fAction
	fLogStatus
	fVPCID
	fSubnetID
	fInstanceID
	fTCPFlags
	fType
	fPktSrcAddr
	fPktDstAddr
	fRegion
	fAZID
	fSublocationType
	fSublocationID
	fPktSrcAWSService
	fPktDstAWSService
	fFlowDirection
	fTrafficPath
	fECSClusterARN
	fECSClusterName
	fECSContainerInstanceARN
	fECSContainerInstanceID
	fECSContainerID
	fECSSecondContainerID
	fECSServiceName
	fECSTaskDefinitionARN
	fECSTaskARN
	fECSTaskID
	fRejectReason
	numFields
)

// fieldNames are the names used in the header line (and in ${...} format strings).
var fieldNames = [numFields]string{
	fVersion:                 "version",
	fAccountID:               "account-id",
	fInterfaceID:             "interface-id",
	fSrcAddr:                 "srcaddr",
	fDstAddr:                 "dstaddr",
	fSrcPort:                 "srcport",
	fDstPort:                 "dstport",
	fProtocol:                "protocol",
	fPackets:                 "packets",
	fBytes:                   "bytes",
	fStart:                   "start",
	fEnd:                     "end",
	fAction:                  "action",
	fLogStatus:               "log-status",
	fVPCID:                   "vpc-id",
	fSubnetID:                "subnet-id",
	fInstanceID:              "instance-id",
	fTCPFlags:                "tcp-flags",
	fType:                    "type",
	fPktSrcAddr:              "pkt-srcaddr",
	fPktDstAddr:              "pkt-dstaddr",
	fRegion:                  "region",
	fAZID:                    "az-id",
	fSublocationType:         "sublocation-type",
	fSublocationID:           "sublocation-id",
	fPktSrcAWSService:        "pkt-src-aws-service",
	fPktDstAWSService:        "pkt-dst-aws-service",
	fFlowDirection:           "flow-direction",
	fTrafficPath:             "traffic-path",
	fECSClusterARN:           "ecs-cluster-arn",
	fECSClusterName:          "ecs-cluster-name",
	fECSContainerInstanceARN: "ecs-container-instance-arn",
	fECSContainerInstanceID:  "ecs-container-instance-id",
	fECSContainerID:          "ecs-container-id",
	fECSSecondContainerID:    "ecs-second-container-id",
	fECSServiceName:          "ecs-service-name",
	fECSTaskDefinitionARN:    "ecs-task-definition-arn",
	fECSTaskARN:              "ecs-task-arn",
	fECSTaskID:               "ecs-task-id",
	fRejectReason:            "reject-reason",
}

var fieldByName = func() map[string]field {
	m := make(map[string]field, numFields)
	for f, n := range fieldNames {
		m[n] = field(f)
	}
	return m
}()

// FieldNames lists the header field names the parser understands, in version order.
func FieldNames() []string { return append([]string(nil), fieldNames[:]...) }
