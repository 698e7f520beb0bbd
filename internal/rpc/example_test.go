package rpc_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/integrationd/integrationd/internal/rpc"
)

func ExampleWriteError() {
	rec := httptest.NewRecorder()
	err := rpc.Errorf(rpc.CodePermissionDenied, "Permission 'integrations.integrations.invoke' denied").
		WithErrorInfo("IAM_PERMISSION_DENIED", "iam.googleapis.com", map[string]string{"permission": "integrations.integrations.invoke"})
	rpc.WriteError(rec, fmt.Errorf("execute: %w", err))
	fmt.Println(rec.Code)
	fmt.Print(rec.Body)
	// Output:
	// 403
	// {"error":{"code":403,"message":"Permission 'integrations.integrations.invoke' denied","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED","domain":"iam.googleapis.com","metadata":{"permission":"integrations.integrations.invoke"}}]}}
}
