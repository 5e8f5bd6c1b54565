-- CreateEnum
CREATE TYPE "stock_command_kind" AS ENUM ('RESERVE', 'RELEASE');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "order_status" ADD VALUE 'CONFIRMED';
ALTER TYPE "order_status" ADD VALUE 'REJECTED';

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "shortages" JSONB,
ADD COLUMN     "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "stock_commands" (
    "id" SERIAL NOT NULL,
    "order_id" INTEGER NOT NULL,
    "kind" "stock_command_kind" NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "done_at" TIMESTAMP(3),

    CONSTRAINT "stock_commands_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "stock_commands_done_at_next_attempt_at_idx" ON "stock_commands"("done_at", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "stock_commands_order_id_kind_key" ON "stock_commands"("order_id", "kind");

-- AddForeignKey
ALTER TABLE "stock_commands" ADD CONSTRAINT "stock_commands_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;
