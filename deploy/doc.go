// Package deploy is the deployment kit for scheduled operation, not code: Dockerfile (the binary in a
// non-root image), cloudformation.yaml (EventBridge Scheduler → ECS Fargate task running
// 'lakehunt run --due', least-privilege IAM) and crontab.example. deploy_test.go checks them.
package deploy
