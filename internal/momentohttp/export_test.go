package momentohttp_test

import (
	"context"

	"google.golang.org/grpc/metadata"
)

func metadataAuth(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", token)
}
